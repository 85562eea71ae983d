// SPDX-License-Identifier: MIT
// Native asset locked until a time: custom errors (`NotOwner`,
// `TooEarly`) that Ethereum clients decode from a revert's data, a
// payable constructor, `block.timestamp` (moved by a dev node's
// `evm_increaseTime`), `block.chainid` and `tx.origin`. The Ethereum
// clients' tests (testing/ethereum) deploy it.
pragma solidity 0.8.28;

contract Locker {
    error NotOwner(address caller);
    error TooEarly(uint256 time, uint256 unlockAt);

    event Locked(address indexed owner, uint256 amount, uint256 unlockAt);
    event Released(address indexed to, uint256 amount);

    address public owner;
    uint256 public unlockAt;

    constructor(uint256 lockSeconds) payable {
        owner = msg.sender;
        unlockAt = block.timestamp + lockSeconds;
        emit Locked(msg.sender, msg.value, unlockAt);
    }

    function release(address payable to) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (block.timestamp < unlockAt) revert TooEarly(block.timestamp, unlockAt);
        uint256 amount = address(this).balance;
        emit Released(to, amount);
        (bool ok, ) = to.call{value: amount}("");
        require(ok, "the payout failed");
    }

    function chain() external view returns (uint256) {
        return block.chainid;
    }

    function origin() external view returns (address) {
        return tx.origin;
    }
}
