// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./Test.sol";

contract Reverter {
    error Nope(uint256 x);

    function boom(uint256 x) external pure {
        revert Nope(x);
    }
}

/// @notice Checks that the home-made test base drives forge's cheatcodes as expected.
contract TestBaseTest is Test {
    Reverter r = new Reverter();

    function testSignRecoversToAddr() public pure {
        uint256 pk = 0xA11CE;
        bytes32 digest = keccak256("gaib");
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(pk, digest);
        assertEq(ecrecover(digest, v, rr, s), vm.addr(pk));
    }

    function testExpectRevertMatchesFullData() public {
        vm.expectRevert(abi.encodeWithSelector(Reverter.Nope.selector, 7));
        r.boom(7);
    }

    function testExpectPartialRevertMatchesSelector() public {
        vm.expectPartialRevert(Reverter.Nope.selector);
        r.boom(8);
    }

    function testWarpSetsTimestamp() public {
        vm.warp(1_000_000);
        assertEq(block.timestamp, 1_000_000);
    }

    function testFuzzBoundStaysInRange(uint256 x, uint256 lo, uint256 hi) public pure {
        lo = bound(lo, 0, type(uint128).max);
        hi = bound(hi, lo, type(uint256).max);
        uint256 y = bound(x, lo, hi);
        assertGe(y, lo);
        assertLe(y, hi);
    }
}
