// SPDX-License-Identifier: MIT
// An escrow over an ERC-20: a buyer opens a deal by moving tokens in
// (transferFrom), then releases them to the seller or the seller refunds
// them. Every token move is a call to another EVM contract.
pragma solidity 0.8.28;

interface IERC20 {
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
    function balanceOf(address owner) external view returns (uint256);
}

contract Escrow {
    struct Deal {
        address buyer;
        address seller;
        uint256 amount;
        bool open;
    }

    IERC20 public immutable token;
    uint256 public deals;
    mapping(uint256 => Deal) public deal;

    event Opened(uint256 indexed id, address indexed buyer, address indexed seller, uint256 amount);
    event Closed(uint256 indexed id, address indexed to, uint256 amount);

    constructor(IERC20 token_) {
        token = token_;
    }

    function open(address seller, uint256 amount) external returns (uint256 id) {
        require(token.transferFrom(msg.sender, address(this), amount), "transferFrom failed");
        id = deals++;
        deal[id] = Deal(msg.sender, seller, amount, true);
        emit Opened(id, msg.sender, seller, amount);
    }

    function release(uint256 id) external {
        Deal storage d = deal[id];
        require(d.open && msg.sender == d.buyer, "only the buyer releases an open deal");
        d.open = false;
        require(token.transfer(d.seller, d.amount), "transfer failed");
        emit Closed(id, d.seller, d.amount);
    }

    function refund(uint256 id) external {
        Deal storage d = deal[id];
        require(d.open && msg.sender == d.seller, "only the seller refunds an open deal");
        d.open = false;
        require(token.transfer(d.buyer, d.amount), "transfer failed");
        emit Closed(id, d.buyer, d.amount);
    }

    // A read through STATICCALL.
    function held() external view returns (uint256) {
        return token.balanceOf(address(this));
    }
}
