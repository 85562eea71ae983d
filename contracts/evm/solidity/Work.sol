// SPDX-License-Identifier: MIT
// Pure workloads for calibrating the EVM runtime's gas rate (docs/evm.md):
// each costs EVM gas for work the runtime does in Wasm, so the Wasm
// instructions it runs per EVM gas can be measured and compared with the
// rate.
pragma solidity 0.8.28;

contract Work {
    function arith(uint256 n) external pure returns (uint256 acc) {
        for (uint256 i; i < n; i++) {
            unchecked {
                acc = acc * 31 + (i ^ acc) / 3;
            }
        }
    }

    function bigmath(uint256 n) external pure returns (uint256 acc) {
        uint256 q = type(uint256).max - 188; // a large odd modulus
        for (uint256 i; i < n; i++) {
            acc = addmod(mulmod(acc + i, q - 7, q), i << 128, q) / (i + 1) + (acc % 0xffffffffffffffffffffffff);
        }
    }

    function copying(uint256 n) external pure returns (bytes32 out) {
        bytes memory a = new bytes(1024);
        for (uint256 i; i < n; i++) {
            bytes memory b = a;
            assembly {
                mcopy(add(b, 32), add(a, 64), 960)
                out := xor(out, mload(add(b, 32)))
            }
        }
    }

    function memory_(uint256 n) external pure returns (bytes32 out) {
        bytes memory b = new bytes(n);
        for (uint256 i; i < n; i++) {
            b[i] = bytes1(uint8(i));
        }
        assembly {
            out := mload(add(b, 32))
        }
    }

    function hashing(uint256 n) external pure returns (bytes32 h) {
        for (uint256 i; i < n; i++) {
            h = keccak256(abi.encode(h, i));
        }
    }

    // Precompile `at` n times on `data`; returns the last output's hash.
    function precompile(address at, bytes calldata data, uint256 n) external view returns (bytes32 h) {
        for (uint256 i; i < n; i++) {
            (bool ok, bytes memory out) = at.staticcall(data);
            require(ok, "precompile failed");
            h = keccak256(out);
        }
    }
}
