// SPDX-License-Identifier: MIT
// Contracts that make contracts (CREATE, CREATE2) and a proxy that runs
// another contract's code on its own storage (DELEGATECALL).
pragma solidity 0.8.28;

contract Counter {
    uint256 public count;
    address public owner;

    constructor(uint256 start) {
        count = start;
        owner = msg.sender;
    }

    function inc() external returns (uint256) {
        count += 1;
        return count;
    }
}

contract Reverter {
    constructor() {
        revert("constructor reverts");
    }
}

contract Factory {
    event Made(address indexed at);

    function make(uint256 start) external returns (address made) {
        made = address(new Counter(start));
        emit Made(made);
    }

    function make2(bytes32 salt, uint256 start) external returns (address made) {
        made = address(new Counter{salt: salt}(start));
        emit Made(made);
    }

    function predict(bytes32 salt, uint256 start) external view returns (address) {
        bytes32 code = keccak256(abi.encodePacked(type(Counter).creationCode, start));
        bytes32 h = keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, code));
        return address(uint160(uint256(h)));
    }

    function fail() external returns (address) {
        try new Reverter() returns (Reverter r) {
            return address(r);
        } catch Error(string memory reason) {
            revert(string.concat("caught: ", reason));
        }
    }
}

// The proxy keeps `count` in slot 0, as Counter does, and the address of
// the code it runs in slot 1.
contract Proxy {
    uint256 public proxied;
    address public logic;

    constructor(address logic_) {
        logic = logic_;
    }

    fallback() external {
        (bool ok, bytes memory out) = logic.delegatecall(msg.data);
        assembly {
            switch ok
            case 0 { revert(add(out, 32), mload(out)) }
            default { return(add(out, 32), mload(out)) }
        }
    }
}
