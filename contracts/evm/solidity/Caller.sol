// SPDX-License-Identifier: MIT
// Low-level calls of any contract at a 20-byte address (an EVM contract
// or a Wasm one): CALL with value, STATICCALL and DELEGATECALL, each
// passing a revert's data on unchanged.
pragma solidity 0.8.28;

contract Caller {
    event Returned(address indexed target, bytes output);

    function forward(address target, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory out) = target.call{value: msg.value}(data);
        bubble(ok, out);
        emit Returned(target, out);
        return out;
    }

    function peek(address target, bytes calldata data) external view returns (bytes memory) {
        (bool ok, bytes memory out) = target.staticcall(data);
        bubble(ok, out);
        return out;
    }

    function borrow(address target, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory out) = target.delegatecall(data);
        bubble(ok, out);
        return out;
    }

    function bubble(bool ok, bytes memory out) private pure {
        if (!ok) {
            assembly {
                revert(add(out, 32), mload(out))
            }
        }
    }
}
