// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {AID} from "../src/AID.sol";
import {RevenueRouter} from "../src/RevenueRouter.sol";
import {Errors} from "../src/Errors.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

contract RevenueRouterTest is Test {
    AID internal aid;
    RevenueRouter internal router;
    address internal admin = address(0xAD);
    address internal dealAdmin = address(0xDA);
    address internal lender = address(0x1E);
    address internal investor = address(0x1A);
    address internal operator = address(0x0B);
    uint256 internal constant MAX = type(uint256).max;

    function setUp() public {
        aid = new AID(address(this));
        aid.grantRole(aid.MINTER_ROLE(), address(this));
        router = new RevenueRouter(aid, admin);
        aid.mint(operator, 1e30);
        vm.prank(operator);
        aid.approve(address(router), MAX);
    }

    function _register(uint16 bps, uint256 debtDue, uint256 cap) internal returns (uint256 id) {
        vm.prank(admin);
        id = router.registerDeal(dealAdmin, lender, investor, operator, bps, debtDue, cap);
    }

    function _check(uint256 a, uint256 d, uint16 b, uint256 c, uint256 l, uint256 i, uint256 o) internal view {
        (uint256 gl, uint256 gi, uint256 go) = router.split(a, d, b, c);
        assertEq(gl, l, "toLender");
        assertEq(gi, i, "toInvestor");
        assertEq(go, o, "toOperator");
    }

    /// @dev The vectors of contracts-bindings/SPLIT.md; the Rust engine checks the same table.
    function testSplitMatchesDocumentedVectors() public view {
        _check(1000e18, 300e18, 2000, 1e30, 300e18, 200e18, 500e18);
        _check(100e18, 300e18, 2000, 1e30, 100e18, 0, 0);
        _check(1000e18, 900e18, 2000, 1e30, 900e18, 100e18, 0);
        _check(1000e18, 0, 2000, 50e18, 0, 50e18, 950e18);
        _check(9999, 0, 3333, MAX, 0, 3332, 6667);
        _check(12345, 45, 1, MAX, 45, 1, 12299);
        _check(MAX, 0, 10000, MAX, 0, MAX, 0);
        _check(MAX, 1, 5000, MAX, 1, (uint256(1) << 255) - 1, (uint256(1) << 255) - 1);
        _check(0, 5, 100, 5, 0, 0, 0);
        _check(1e6, 0, 0, MAX, 0, 0, 1e6);
        _check(7, 3, 10000, 2, 3, 2, 2);
    }

    function testSplitRevertsOnBpsAbove10000() public {
        vm.expectRevert(abi.encodeWithSelector(Errors.BpsTooLarge.selector, 10_001));
        router.split(1, 0, 10_001, 0);
    }

    function testFuzzSplitConservesAndFollowsOrder(uint256 a, uint256 d, uint16 b, uint256 c) public view {
        b = uint16(bound(b, 0, 10_000));
        (uint256 l, uint256 i, uint256 o) = router.split(a, d, b, c);
        assertEq(l + i, a - o, "sum == amount");
        assertEq(l, Math.min(a, d), "lender first");
        uint256 share = Math.mulDiv(a, b, 10_000);
        assertEq(i, Math.min(share, Math.min(a - l, c)), "investor = min(share of gross, remaining, cap)");
        assertEq(o, a - l - i, "operator gets the rest");
    }

    function testPayTransfersAndUpdatesTerms() public {
        uint256 id = _register(2000, 300e18, 250e18);
        vm.prank(operator);
        (uint256 l, uint256 i, uint256 o) = router.pay(id, 1000e18);
        assertEq(l, 300e18);
        assertEq(i, 200e18);
        assertEq(o, 500e18);
        assertEq(aid.balanceOf(lender), 300e18);
        assertEq(aid.balanceOf(investor), 200e18);
        assertEq(aid.balanceOf(operator), 1e30 - 500e18);
        (,,,, uint256 debtDue, uint256 capRemaining,) = router.deals(id);
        assertEq(debtDue, 0);
        assertEq(capRemaining, 50e18);
        // second payment: no debt due, cap binds
        vm.prank(operator);
        (l, i, o) = router.pay(id, 1000e18);
        assertEq(l, 0);
        assertEq(i, 50e18);
        assertEq(o, 950e18);
        (,,,,, capRemaining,) = router.deals(id);
        assertEq(capRemaining, 0);
    }

    function testAnyoneMayPayForADeal() public {
        uint256 id = _register(1000, 0, MAX);
        address customer = address(0xC0);
        aid.mint(customer, 100e18);
        vm.startPrank(customer);
        aid.approve(address(router), MAX);
        router.pay(id, 100e18);
        vm.stopPrank();
        assertEq(aid.balanceOf(investor), 10e18);
        assertEq(aid.balanceOf(operator), 1e30 + 90e18);
    }

    function testFuzzPaySequenceMatchesSplit(uint256[4] memory amounts, uint16 bps, uint256 debt, uint256 cap) public {
        bps = uint16(bound(bps, 0, 10_000));
        debt = bound(debt, 0, 1e24);
        cap = bound(cap, 0, 1e24);
        uint256 id = _register(bps, debt, cap);
        for (uint256 k = 0; k < 4; k++) {
            uint256 a = bound(amounts[k], 1, 1e24);
            (l0, i0, o0) = (aid.balanceOf(lender), aid.balanceOf(investor), aid.balanceOf(operator));
            (uint256 el, uint256 ei, uint256 eo) = router.split(a, debt, bps, cap);
            vm.prank(operator);
            router.pay(id, a);
            assertEq(aid.balanceOf(lender) - l0, el);
            assertEq(aid.balanceOf(investor) - i0, ei);
            assertEq(aid.balanceOf(operator) + a - o0, eo);
            debt -= el;
            cap -= ei;
        }
    }

    uint256 internal l0;
    uint256 internal i0;
    uint256 internal o0;

    function testSetTermsOnlyDealAdmin() public {
        uint256 id = _register(1000, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(Errors.NotDealAdmin.selector, id, address(this)));
        router.setTerms(id, 1, 1);
        vm.prank(dealAdmin);
        router.setTerms(id, 5e18, 7e18);
        (,,,, uint256 debtDue, uint256 capRemaining,) = router.deals(id);
        assertEq(debtDue, 5e18);
        assertEq(capRemaining, 7e18);
    }

    function testPayRevertsOnUnknownDealAndZeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(Errors.UnknownDeal.selector, 9));
        router.pay(9, 1);
        uint256 id = _register(1000, 0, 0);
        vm.expectRevert(Errors.ZeroAmount.selector);
        router.pay(id, 0);
    }

    function testRegisterRequiresRegistrar() public {
        vm.expectPartialRevert(bytes4(keccak256("AccessControlUnauthorizedAccount(address,bytes32)")));
        router.registerDeal(dealAdmin, lender, investor, operator, 1, 0, 0);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(Errors.BpsTooLarge.selector, 10_001));
        router.registerDeal(dealAdmin, lender, investor, operator, 10_001, 0, 0);
    }
}
