// SPDX-License-Identifier: MIT
// Edges of Ward's EVM runtime: a Wasm contract reached through the Ward
// call address, precompiles, endless loops, exceptional halts, and
// transient storage.
pragma solidity 0.8.28;

contract Probe {
    // Calls the contract at a 32-byte Ward address (a Wasm contract)
    // through 0x...ca11; bubbles its revert data up.
    address constant WARD_CALL = 0x000000000000000000000000000000000000cA11;

    uint256 public counter;

    event Called(bytes32 indexed target, bytes output);

    function callWasm(bytes32 target, bytes calldata input) external returns (bytes memory) {
        (bool ok, bytes memory out) = WARD_CALL.call(abi.encodePacked(target, input));
        if (!ok) {
            assembly {
                revert(add(out, 32), mload(out))
            }
        }
        emit Called(target, out);
        return out;
    }

    function digests(bytes calldata data) external pure returns (bytes32, bytes32, bytes20) {
        return (keccak256(data), sha256(data), ripemd160(data));
    }

    function recover(bytes32 hash, uint8 v, bytes32 r, bytes32 s) external pure returns (address) {
        return ecrecover(hash, v, r, s);
    }

    function bump() external returns (uint256) {
        counter += 1;
        return counter;
    }

    function spin() external {
        while (true) {
            counter += 1;
        }
    }

    function halt() external {
        counter += 1;
        assembly {
            invalid()
        }
    }

    function transient(uint256 value) external returns (uint256 out) {
        assembly {
            tstore(0, value)
            out := tload(0)
        }
    }
}
