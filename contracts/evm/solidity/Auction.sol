// SPDX-License-Identifier: GPL-3.0
// An open auction of the chain's native asset: the highest bid is held,
// an outbid bidder's bid is refunded to it on `withdraw`, and the
// beneficiary takes the winning bid when the auction ends.
pragma solidity ^0.8.28;

contract Auction {
    address payable public beneficiary;
    uint256 public endTime;
    address public highestBidder;
    uint256 public highestBid;
    mapping(address => uint256) public pendingReturns;
    bool public ended;

    event HighestBidIncreased(address bidder, uint256 amount);
    event AuctionEnded(address winner, uint256 amount);

    constructor(uint256 biddingTime, address payable beneficiaryAddress) {
        beneficiary = beneficiaryAddress;
        endTime = block.timestamp + biddingTime;
    }

    function bid() external payable {
        require(block.timestamp <= endTime, "the auction ended");
        require(msg.value > highestBid, "there is a higher bid");
        if (highestBid != 0) {
            pendingReturns[highestBidder] += highestBid;
        }
        highestBidder = msg.sender;
        highestBid = msg.value;
        emit HighestBidIncreased(msg.sender, msg.value);
    }

    /// Refunds the caller's outbid bids.
    function withdraw() external returns (bool) {
        uint256 amount = pendingReturns[msg.sender];
        if (amount > 0) {
            pendingReturns[msg.sender] = 0;
            (bool ok, ) = payable(msg.sender).call{value: amount}("");
            if (!ok) {
                pendingReturns[msg.sender] = amount;
                return false;
            }
        }
        return true;
    }

    function end() external {
        require(!ended, "already ended");
        ended = true;
        emit AuctionEnded(highestBidder, highestBid);
        (bool ok, ) = beneficiary.call{value: highestBid}("");
        require(ok, "the payout failed");
    }
}
