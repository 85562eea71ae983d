// SPDX-License-Identifier: MIT
// Transient storage (EIP-1153) across the frames of one transaction: a
// value written here is read back by a nested call of this contract, a
// nested frame's write is undone when it reverts, a reentrancy lock that
// lives for the transaction, and nothing is left for the next one. The
// EVM runtime's conformance test (benches/tests/evm_conformance.rs) runs
// it against revm.
pragma solidity 0.8.28;

contract Transient {
    uint256 public seen;

    function tset(uint256 slot, uint256 value) public {
        assembly {
            tstore(slot, value)
        }
    }

    function tget(uint256 slot) public view returns (uint256 value) {
        assembly {
            value := tload(slot)
        }
    }

    function setAndRevert(uint256 slot, uint256 value) external {
        tset(slot, value);
        revert("undone");
    }

    // Writes `value` under slot 1, reads it through a nested call, lets a
    // nested call overwrite it and revert, then reads it again; keeps
    // both readings in storage.
    function run(uint256 value) external returns (uint256 nested, uint256 afterRevert) {
        tset(1, value);
        nested = this.tget(1);
        try this.setAndRevert(1, 7) {} catch {}
        afterRevert = tget(1);
        seen = nested * 1000 + afterRevert;
    }

    // A lock held for the transaction: a reentrant call fails.
    function guarded(bool reenter) external returns (bool inner) {
        require(tget(2) == 0, "reentered");
        tset(2, 1);
        if (reenter) {
            try this.guarded(false) returns (bool) {
                inner = true;
            } catch {
                inner = false;
            }
        }
        tset(2, 0);
    }

    // What the last transaction left in slot 1: nothing.
    function leftover() external view returns (uint256) {
        return tget(1);
    }
}
