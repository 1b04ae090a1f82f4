// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ICollateralOracle} from "./interfaces/ICollateralOracle.sol";
import {Errors} from "./Errors.sol";

/// @title LendingMarket
/// @notice Minimal example consumer of gaib's published numbers: accepts sAID as collateral,
/// prices it with the oracle's Morpho-style `price()` and `ltvBps()`, and lends AID from its own
/// liquidity (AID sent to this contract). No interest, no close factor, no bonus: it exists to
/// prove the oracle output is consumable and fails closed.
///
/// Limit: `limit(c) = floor(floor(c * price / 1e36) * ltvBps / 10_000)` (AID wei for `c`
/// collateral units). Health = limit / debt; a position is liquidatable exactly when
/// `debt > limit` (health < 1). Liquidation repays the whole debt and seizes all collateral.
///
/// Stale reports. Borrowing and withdrawing collateral against debt use `borrowLimit`, which
/// reverts `StalePrice` unless the oracle's report is fresh and `ZeroPrice` on a zero price: they
/// fail closed. Liquidation uses `liquidationLimit` at the oracle's price as it is — after a
/// report goes stale the ValuationOracle's price decays linearly to zero (conservative), so
/// positions become liquidatable as the report ages instead of being frozen; a zero price means
/// a zero limit (every position with debt is liquidatable). Neither depends on collateral or loan
/// decimals beyond the 1e36 price scale (any decimals the oracle supports).
contract LendingMarket is ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Collateral token (sAID).
    IERC20 public immutable collateralToken;
    /// @notice Loan token (AID).
    IERC20 public immutable loanToken;
    /// @notice Price and LTV source.
    ICollateralOracle public immutable oracle;

    /// @notice Collateral per borrower.
    mapping(address => uint256) public collateralOf;
    /// @notice Debt per borrower (AID wei).
    mapping(address => uint256) public debtOf;
    /// @notice Sum of all debts.
    uint256 public totalDebt;

    /// @notice Collateral deposited.
    event CollateralDeposited(address indexed account, uint256 amount);
    /// @notice Collateral withdrawn.
    event CollateralWithdrawn(address indexed account, address indexed to, uint256 amount);
    /// @notice AID borrowed.
    event Borrowed(address indexed account, address indexed to, uint256 amount);
    /// @notice Debt repaid.
    event Repaid(address indexed payer, address indexed account, uint256 amount);
    /// @notice A position was liquidated.
    event Liquidated(address indexed liquidator, address indexed account, uint256 debt, uint256 collateral);

    /// @param collateralToken_ sAID.
    /// @param loanToken_ AID.
    /// @param oracle_ The collateral oracle (ValuationOracle of sAID, loan decimals 18).
    constructor(IERC20 collateralToken_, IERC20 loanToken_, ICollateralOracle oracle_) {
        if (
            address(collateralToken_) == address(0) || address(loanToken_) == address(0)
                || address(oracle_) == address(0)
        ) revert Errors.ZeroAddress();
        collateralToken = collateralToken_;
        loanToken = loanToken_;
        oracle = oracle_;
    }

    /// @notice Borrow limit of `collateral` units at the current oracle price and LTV.
    /// Reverts `StalePrice` if the oracle's report is not fresh, `ZeroPrice` on a zero price.
    /// @param collateral Collateral units.
    /// @return floor(floor(collateral * price / 1e36) * ltvBps / 10_000).
    function borrowLimit(uint256 collateral) public view returns (uint256) {
        if (!oracle.isFresh()) revert Errors.StalePrice();
        uint256 p = oracle.price();
        if (p == 0) revert Errors.ZeroPrice();
        return _limit(collateral, p);
    }

    /// @notice Liquidation threshold of `collateral` units: the same formula at the oracle's
    /// price as it is, fresh or decaying after staleness (zero price: zero limit).
    /// @param collateral Collateral units.
    /// @return floor(floor(collateral * price / 1e36) * ltvBps / 10_000).
    function liquidationLimit(uint256 collateral) public view returns (uint256) {
        return _limit(collateral, oracle.price());
    }

    function _limit(uint256 collateral, uint256 p) internal view returns (uint256) {
        return Math.mulDiv(Math.mulDiv(collateral, p, 1e36), oracle.ltvBps(), 10_000);
    }

    /// @notice Whether `account` can be liquidated now (debt > liquidation limit, health < 1).
    /// @param account The borrower.
    /// @return True when liquidatable.
    function isLiquidatable(address account) public view returns (bool) {
        uint256 d = debtOf[account];
        return d > 0 && d > liquidationLimit(collateralOf[account]);
    }

    /// @notice Deposits sAID collateral for `account` (pulled from the caller).
    /// @param amount Collateral units (> 0).
    /// @param account Position credited.
    function depositCollateral(uint256 amount, address account) external nonReentrant {
        if (amount == 0) revert Errors.ZeroAmount();
        collateralOf[account] += amount;
        collateralToken.safeTransferFrom(msg.sender, address(this), amount);
        emit CollateralDeposited(account, amount);
    }

    /// @notice Withdraws the caller's collateral; with debt outstanding the position must stay
    /// within its borrow limit at the (fresh, non-zero) oracle price.
    /// @param amount Collateral units.
    /// @param to Receiver.
    function withdrawCollateral(uint256 amount, address to) external nonReentrant {
        collateralOf[msg.sender] -= amount;
        uint256 d = debtOf[msg.sender];
        if (d > 0) {
            uint256 limit = borrowLimit(collateralOf[msg.sender]);
            if (d > limit) revert Errors.BorrowLimitExceeded(d, limit);
        }
        collateralToken.safeTransfer(to, amount);
        emit CollateralWithdrawn(msg.sender, to, amount);
    }

    /// @notice Borrows AID against the caller's collateral: passes iff debt + amount <= limit at
    /// the fresh, non-zero oracle price (fails closed otherwise).
    /// @param amount AID to borrow (> 0).
    /// @param to Receiver of the AID.
    function borrow(uint256 amount, address to) external nonReentrant {
        if (amount == 0) revert Errors.ZeroAmount();
        uint256 d = debtOf[msg.sender] + amount;
        uint256 limit = borrowLimit(collateralOf[msg.sender]);
        if (d > limit) revert Errors.BorrowLimitExceeded(d, limit);
        uint256 available = loanToken.balanceOf(address(this));
        if (amount > available) revert Errors.InsufficientLiquidity(amount, available);
        debtOf[msg.sender] = d;
        totalDebt += amount;
        loanToken.safeTransfer(to, amount);
        emit Borrowed(msg.sender, to, amount);
    }

    /// @notice Repays up to the debt of `account` (pulled from the caller). No oracle read.
    /// @param amount AID to repay (<= debt).
    /// @param account The borrower.
    function repay(uint256 amount, address account) external nonReentrant {
        uint256 d = debtOf[account];
        if (amount > d) revert Errors.RepayExceedsDebt(amount, d);
        debtOf[account] = d - amount;
        totalDebt -= amount;
        loanToken.safeTransferFrom(msg.sender, address(this), amount);
        emit Repaid(msg.sender, account, amount);
    }

    /// @notice Liquidates `account` when its debt exceeds its liquidation limit (health < 1) at
    /// the oracle's price (fresh, or decaying once stale): the caller repays the whole debt and
    /// receives all the collateral.
    /// @param account The borrower.
    /// @return debt AID repaid.
    /// @return collateral Collateral seized.
    function liquidate(address account) external nonReentrant returns (uint256 debt, uint256 collateral) {
        debt = debtOf[account];
        collateral = collateralOf[account];
        uint256 limit = liquidationLimit(collateral);
        if (debt <= limit) revert Errors.PositionHealthy(debt, limit);
        debtOf[account] = 0;
        collateralOf[account] = 0;
        totalDebt -= debt;
        loanToken.safeTransferFrom(msg.sender, address(this), debt);
        collateralToken.safeTransfer(msg.sender, collateral);
        emit Liquidated(msg.sender, account, debt, collateral);
    }
}
