// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {AID} from "../src/AID.sol";
import {AIDMinter} from "../src/AIDMinter.sol";
import {Errors} from "../src/Errors.sol";
import {TestStablecoin} from "../src/test-helpers/TestStablecoin.sol";

contract AIDMinterTest is Test {
    AID internal aid;
    AIDMinter internal minter;
    TestStablecoin internal usdc;
    address internal admin = address(0xAD);
    address internal alice = address(0xA11CE);

    function setUp() public {
        aid = new AID(admin);
        usdc = new TestStablecoin("Test USD", "tUSD", 6);
        minter = new AIDMinter(aid, usdc);
        bytes32 role = aid.MINTER_ROLE();
        vm.prank(admin);
        aid.grantRole(role, address(minter));
        usdc.mint(alice, 1_000_000e6);
        vm.startPrank(alice);
        usdc.approve(address(minter), type(uint256).max);
        aid.approve(address(minter), type(uint256).max);
        vm.stopPrank();
    }

    function testMintScalesSixDecimalsToEighteen() public {
        vm.prank(alice);
        uint256 out = minter.mint(250e6, alice);
        assertEq(out, 250e18);
        assertEq(aid.balanceOf(alice), 250e18);
        assertEq(usdc.balanceOf(address(minter)), 250e6);
        assertEq(minter.reservesInAid(), aid.totalSupply());
    }

    function testRedeemReturnsStablecoinAndBurns() public {
        vm.startPrank(alice);
        minter.mint(100e6, alice);
        uint256 paid = minter.redeem(40e18, alice);
        vm.stopPrank();
        assertEq(paid, 40e6);
        assertEq(aid.balanceOf(alice), 60e18);
        assertEq(aid.totalSupply(), 60e18);
        assertEq(usdc.balanceOf(address(minter)), 60e6);
    }

    function testRedeemLeavesSubUnitDustWithCaller() public {
        vm.startPrank(alice);
        minter.mint(10e6, alice);
        uint256 paid = minter.redeem(1e12 + 999, alice); // 1 unit + dust
        vm.stopPrank();
        assertEq(paid, 1);
        assertEq(aid.balanceOf(alice), 10e18 - 1e12);
    }

    function testRedeemBelowOneUnitReverts() public {
        vm.startPrank(alice);
        minter.mint(1e6, alice);
        vm.expectRevert(abi.encodeWithSelector(Errors.RedeemBelowUnit.selector, 1e12 - 1, 1e12));
        minter.redeem(1e12 - 1, alice);
        vm.stopPrank();
    }

    function testMintZeroReverts() public {
        vm.prank(alice);
        vm.expectRevert(Errors.ZeroAmount.selector);
        minter.mint(0, alice);
    }

    function testRejectsStablecoinWithMoreThan18Decimals() public {
        TestStablecoin weird = new TestStablecoin("W", "W", 19);
        vm.expectRevert(abi.encodeWithSelector(Errors.UnsupportedDecimals.selector, 19));
        new AIDMinter(aid, weird);
    }

    function testFuzzMintRedeemRoundTripNeverProfits(uint256 stableIn, uint256 aidOut) public {
        stableIn = bound(stableIn, 1, 1_000_000e6);
        vm.startPrank(alice);
        uint256 startUsdc = usdc.balanceOf(alice);
        uint256 minted = minter.mint(stableIn, alice);
        aidOut = bound(aidOut, 1e12, minted);
        minter.redeem(aidOut, alice);
        vm.stopPrank();
        assertLe(usdc.balanceOf(alice), startUsdc, "gained stablecoin");
        // value conserved exactly: stablecoin + AID/scale dust accounting
        assertEq(usdc.balanceOf(alice) * 1e12 + aid.balanceOf(alice), startUsdc * 1e12, "value not conserved");
        assertLe(aid.totalSupply(), minter.reservesInAid(), "supply above reserves");
    }
}
