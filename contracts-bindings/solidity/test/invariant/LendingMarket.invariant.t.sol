// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, CommonBase} from "../utils/Test.sol";
import {LendingMarket} from "../../src/LendingMarket.sol";
import {ICollateralOracle} from "../../src/interfaces/ICollateralOracle.sol";
import {MockCollateralOracle} from "../../src/test-helpers/MockCollateralOracle.sol";
import {TestStablecoin} from "../../src/test-helpers/TestStablecoin.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Random borrows, repayments, collateral moves, price/LTV changes (including a zero
/// price) and liquidation attempts; records every outcome that contradicts the rules
/// "borrow passes iff debt <= limit and price > 0" and "liquidate passes iff debt > limit".
contract MarketHandler is CommonBase {
    LendingMarket internal market;
    MockCollateralOracle internal oracle;
    TestStablecoin internal coll;
    TestStablecoin internal loan;
    address[3] public actors = [address(0xB1), address(0xB2), address(0xB3)];
    address internal liquidator = address(0x11D);
    uint256 public wrongBorrows;
    uint256 public wrongLiquidations;
    uint256 public liquidations;

    constructor(LendingMarket m, MockCollateralOracle o, TestStablecoin c, TestStablecoin l) {
        market = m;
        oracle = o;
        coll = c;
        loan = l;
        for (uint256 i = 0; i < 3; i++) {
            vm.startPrank(actors[i]);
            coll.approve(address(market), type(uint256).max);
            loan.approve(address(market), type(uint256).max);
            vm.stopPrank();
        }
        vm.prank(liquidator);
        loan.approve(address(market), type(uint256).max);
    }

    function _limit(uint256 c) internal view returns (uint256) {
        return Math.mulDiv(Math.mulDiv(c, oracle.price(), 1e36), oracle.ltvBps(), 10_000);
    }

    function depositCollateral(uint256 who, uint256 amount) external {
        address a = actors[who % 3];
        amount = 1 + amount % 1e30;
        coll.mint(a, amount);
        vm.prank(a);
        market.depositCollateral(amount, a);
    }

    function setPrice(uint256 price, uint256 ltv, bool zero) external {
        oracle.set(zero ? 0 : price % 2e30, uint16(ltv % 10_001));
    }

    /// @dev A late report: borrowing must fail closed, liquidation must follow the price.
    function setStale(bool stale) external {
        oracle.setStale(stale);
    }

    /// @dev Sets the price so that `who`'s limit lands next to its debt (boundary cases).
    function priceAtBoundary(uint256 who, uint256 offset) external {
        address a = actors[who % 3];
        uint256 c = market.collateralOf(a);
        uint256 d = market.debtOf(a);
        if (c == 0 || d == 0) return;
        oracle.set(0, 10_000);
        // price with floor(c * p / 1e36) == d +- small offset
        uint256 target = d + offset % 3; // limit lands at d..d+2 (ltv 10_000) or just below d (ltv 9_999)
        uint256 p = Math.mulDiv(target, 1e36, c, Math.Rounding.Ceil);
        oracle.set(p, offset % 2 == 0 ? 10_000 : 9_999);
    }

    function borrow(uint256 who, uint256 amount) external {
        address a = actors[who % 3];
        uint256 c = market.collateralOf(a);
        uint256 d = market.debtOf(a);
        bool priced = oracle.price() > 0;
        uint256 limit = priced ? _limit(c) : 0;
        amount = 1 + amount % (limit > d ? 2 * (limit - d) + 2 : 4);
        bool should = oracle.isFresh() && priced && d + amount <= limit && amount <= loan.balanceOf(address(market));
        vm.prank(a);
        try market.borrow(amount, a) {
            if (!should) wrongBorrows++;
        } catch {
            if (should) wrongBorrows++;
        }
    }

    function repay(uint256 who, uint256 frac) external {
        address a = actors[who % 3];
        uint256 amount = market.debtOf(a) * (frac % 101) / 100;
        loan.mint(a, amount);
        vm.prank(a);
        market.repay(amount, a);
    }

    function liquidate(uint256 who) external {
        address a = actors[who % 3];
        uint256 d = market.debtOf(a);
        // at any price, fresh or stale, zero included (a zero limit)
        bool should = d > _limit(market.collateralOf(a));
        loan.mint(liquidator, d);
        vm.prank(liquidator);
        try market.liquidate(a) {
            liquidations++;
            if (!should) wrongLiquidations++;
        } catch {
            if (should) wrongLiquidations++;
        }
    }

    function debtSum() external view returns (uint256 s) {
        for (uint256 i = 0; i < 3; i++) s += market.debtOf(actors[i]);
    }
}

/// @notice The lending market lends exactly up to the limit, fails closed on a zero price and
/// liquidates exactly when health < 1.
contract LendingMarketInvariantTest is Test {
    MarketHandler internal handler;
    LendingMarket internal market;
    MockCollateralOracle internal oracle;

    function setUp() public {
        TestStablecoin coll = new TestStablecoin("sAID stand-in", "sAID", 24);
        TestStablecoin loan = new TestStablecoin("AID stand-in", "AID", 18);
        oracle = new MockCollateralOracle();
        oracle.set(1e30, 8_000);
        market = new LendingMarket(coll, loan, ICollateralOracle(address(oracle)));
        loan.mint(address(market), 1e30);
        handler = new MarketHandler(market, oracle, coll, loan);
        targetContract(address(handler));
    }

    function invariant_borrowPassesExactlyWithinLimit() public view {
        assertEq(handler.wrongBorrows(), 0, "borrow outcome contradicts the limit");
    }

    function invariant_liquidationExactlyWhenHealthBelowOne() public view {
        assertEq(handler.wrongLiquidations(), 0, "liquidation outcome contradicts health");
    }

    function invariant_totalDebtIsSumOfDebts() public view {
        assertEq(handler.debtSum(), market.totalDebt(), "totalDebt");
    }
}
