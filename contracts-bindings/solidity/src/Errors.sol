// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Errors
/// @notice Every custom error of gaib's contracts, in one place so off-chain code (the Rust
/// bindings) decodes reverts from one ABI. Errors raised by OpenZeppelin base contracts
/// (ERC20InsufficientBalance, AccessControlUnauthorizedAccount, ECDSAInvalidSignatureS, ...) keep
/// their OpenZeppelin definitions.
library Errors {
    // ------------------------------------------------------------------ shared
    /// @notice An amount argument was zero where a positive amount is required.
    error ZeroAmount();
    /// @notice An address argument was the zero address.
    error ZeroAddress();
    /// @notice A basis-point argument exceeded 10_000.
    error BpsTooLarge(uint256 bps);

    // ------------------------------------------------------------------ ValuationOracle
    /// @notice The report is for another asset than the one this oracle is bound to.
    error WrongAsset(bytes32 expected, bytes32 got);
    /// @notice The report's round is not above the last accepted round (replay or older round).
    error RoundNotIncreasing(uint64 lastRound, uint64 round);
    /// @notice The report's round is not exactly the last accepted round + 1.
    error RoundNotSequential(uint64 lastRound, uint64 round);
    /// @notice Without guardian approval a report must be observed strictly after the last one.
    error SameObservationTime(uint64 lastObservedAt, uint64 observedAt);
    /// @notice The NAV rises faster than maxGrowthBpsPerYear since the last report allows.
    error GrowthTooFast(uint256 lastNav, uint256 nav, uint256 maxNav);
    /// @notice The NAV falls faster than maxMarkdownBpsPerDay since the last report allows.
    error MarkdownTooFast(uint256 lastNav, uint256 nav, uint256 minNav);
    /// @notice The report's LTV moves faster than the growth (rise) or mark-down (fall) rate
    /// since the last report allows; `bound` is the highest or lowest LTV allowed.
    error LtvMoveTooFast(uint256 lastLtvBps, uint256 ltvBps, uint256 bound);
    /// @notice A report's navPerShare or deployedValue is above its bound (the oracle's
    /// `maxNavPerShare` or `MAX_VALUE`), even with a guardian's approval.
    error ValueTooLarge(uint256 value, uint256 max);
    /// @notice The report comes before lastSubmittedAt + minReportInterval.
    error ReportTooSoon(uint256 earliest, uint256 nowTs);
    /// @notice The report's observation time is before the last accepted report's.
    error ObservationOlderThanLast(uint64 lastObservedAt, uint64 observedAt);
    /// @notice The report's observation time is in the future.
    error ObservationInFuture(uint64 observedAt, uint256 nowTs);
    /// @notice The report is expired (`now > validUntil`) or older than `maxAge`.
    error ReportStale(uint64 observedAt, uint64 validUntil, uint256 nowTs);
    /// @notice `validUntil` is before `observedAt`.
    error InvalidValidity(uint64 observedAt, uint64 validUntil);
    /// @notice The report's NAV per share is zero.
    error ZeroNav();
    /// @notice A signature recovered to an address that is not an authorised signer.
    error UnknownSigner(address signer);
    /// @notice Two signatures recovered to the same signer.
    error DuplicateSigner(address signer);
    /// @notice Fewer distinct authorised signatures than the quorum.
    error QuorumNotMet(uint256 got, uint256 quorum);
    /// @notice NAV moved more than `maxDeviationBps` from the last report without guardian approval.
    error DeviationTooLarge(uint256 lastNav, uint256 nav, uint256 maxDeviationBps);
    /// @notice No report has been accepted yet, or the requested round does not exist.
    error NoReport();
    /// @notice The quorum is zero or above the number of signers.
    error InvalidQuorum(uint256 quorum, uint256 signerCount);
    /// @notice The signer is already authorised (add) or is not (remove).
    error SignerState(address signer, bool authorised);
    /// @notice 18 + loanDecimals - collateralDecimals is above 60 or below -18.
    error InvalidDecimals(uint8 loanDecimals, uint8 collateralDecimals);

    // ------------------------------------------------------------------ AIDMinter
    /// @notice The stablecoin has more than 18 decimals.
    error UnsupportedDecimals(uint8 decimals);
    /// @notice The redemption amount is below one unit of the stablecoin.
    error RedeemBelowUnit(uint256 aidAmount, uint256 unit);

    // ------------------------------------------------------------------ sAID
    /// @notice ERC-7540: `previewRedeem`/`previewWithdraw` are not available for async redemption.
    error AsyncRedeemNoPreview();
    /// @notice The caller is neither the owner/controller nor its operator.
    error NotOwnerOrOperator(address caller, address owner);
    /// @notice The claim exceeds what is claimable for the controller.
    error ExceedsClaimable(uint256 requested, uint256 claimable);
    /// @notice The current redemption cycle has not ended yet.
    error CycleNotEnded(uint256 cycleEnd, uint256 nowTs);
    /// @notice A deposit would mint zero shares.
    error ZeroShares();
    /// @notice The amount exceeds idle (unreserved) liquidity.
    error InsufficientIdle(uint256 requested, uint256 idle);
    /// @notice Capital was deployed after the latest report's observation; the NAV is unknown
    /// until a newer report arrives.
    error AwaitingValuation(uint256 lastDeployAt, uint256 observedAt);
    /// @notice The oracle reports another asset id than the vault expects.
    error OracleAssetMismatch(bytes32 expected, bytes32 got);

    // ------------------------------------------------------------------ RevenueRouter
    /// @notice No deal with this id.
    error UnknownDeal(uint256 dealId);
    /// @notice The caller is not the deal's admin.
    error NotDealAdmin(uint256 dealId, address caller);

    // ------------------------------------------------------------------ LendingMarket
    /// @notice The oracle price is zero.
    error ZeroPrice();
    /// @notice The oracle's report is stale or missing: no borrowing or collateral withdrawal.
    error StalePrice();
    /// @notice The position would exceed its borrow limit.
    error BorrowLimitExceeded(uint256 debt, uint256 limit);
    /// @notice The position is healthy (debt <= limit) and cannot be liquidated.
    error PositionHealthy(uint256 debt, uint256 limit);
    /// @notice The market has not enough AID to lend.
    error InsufficientLiquidity(uint256 requested, uint256 available);
    /// @notice Repayment exceeds the debt.
    error RepayExceedsDebt(uint256 amount, uint256 debt);

    // ------------------------------------------------------------------ MorphoOracleAdapter
    /// @notice The wrapped oracle's latest report is stale or missing at `nowTs` (its `staleAt()`
    /// says since when): Morpho Blue must not price collateral with it.
    error OracleNotFresh(address oracle, uint256 nowTs);
    /// @notice The wrapped oracle returned a zero price while fresh.
    error ZeroOraclePrice(address oracle);

    // ------------------------------------------------------------------ TranchedPool / TrancheToken
    /// @notice A pool needs between 1 and 8 tranches, the last one the equity.
    error InvalidTrancheCount(uint256 count);
    /// @notice A tranche's terms are invalid: `field` names it (e.g. "balance", "couponPpb").
    error InvalidTranche(uint256 tranche, string field, uint256 value);
    /// @notice The OC trigger (ppb) is above the bound of 100e9 (a ratio of 100).
    error InvalidOcTrigger(uint256 ocTriggerPpb);
    /// @notice No tranche with this index.
    error UnknownTranche(uint256 tranche);
    /// @notice A subscription would exceed the tranche's original balance.
    error OverSubscribed(uint256 tranche, uint256 amount, uint256 remaining);
    /// @notice The issue is closed (no more subscriptions) or not yet closed (no periods).
    error IssueClosed();
    /// @notice Periods need the issue to be closed first (`closeIssue`).
    error IssueNotClosed();
    /// @notice `closeIssue` needs every tranche fully subscribed.
    error NotFullySubscribed(uint256 tranche, uint256 supply, uint256 balance);
    /// @notice The pool has passed its legal final period: no more periods.
    error PoolMatured();
    /// @notice The declared principal proceeds exceed the AID collected since the last period.
    error ProceedsExceedCash(uint256 principalProceeds, uint256 cash);
    /// @notice A value is above the pool's bound (2^128 - 1 wei, or 1e9 ppb for a base rate).
    error PoolValueTooLarge(string field, uint256 value, uint256 max);
    /// @notice Only the tranche's pool may call this.
    error OnlyPool(address caller);
    /// @notice A distribution to a tranche with no tokens outstanding.
    error NoTokensOutstanding();
    /// @notice The pool's schedule is invalid: `field` names it ("issueWindow", "periodSeconds",
    /// "legalFinalPeriod").
    error InvalidSchedule(string field, uint256 value);
    /// @notice The issue was cancelled: no subscriptions, no close; holders take refunds.
    error IssueCancelled();
    /// @notice The issue deadline (unix seconds) has passed: no more subscriptions.
    error IssueDeadlinePassed(uint256 deadline);
    /// @notice Before the issue deadline (unix seconds) only the admin may cancel the issue.
    error IssueDeadlineNotPassed(uint256 deadline);
    /// @notice Refunds need the issue to be cancelled first (`cancelIssue`).
    error IssueNotCancelled();
    /// @notice A tranche's maximum price must be in 1..=2^128-1.
    error InvalidMaxPrice(uint256 tranche, uint256 maxPrice);
    /// @notice A tranche price is above the tranche's maximum fixed at deployment.
    error PriceAboveMax(uint256 tranche, uint256 price, uint256 maxPrice);
    /// @notice Residual distributions need the pool to have matured (its legal final closed).
    error PoolNotMatured();
    /// @notice The next period may close at `nextCloseAt` (unix seconds) at the earliest.
    error PeriodTooEarly(uint256 nextCloseAt);
    /// @notice A tranche price report is for pool period `reportPeriod` but the pool is at
    /// `poolPeriod` (periods closed so far): prices from another period would count principal
    /// already paid out, or not yet paid (review finding M1).
    error WrongPeriod(uint256 poolPeriod, uint256 reportPeriod);
    /// @notice `claimFor(holder)` needs a claim receiver designated for `holder` (finding M4).
    error NoClaimReceiver(address holder);
    /// @notice Only an admin of the token's pool may do this.
    error NotPoolAdmin(address caller);
    /// @notice The pool's admin may designate claim receivers only for contract holders.
    error NotAContract(address holder);
    /// @notice `holder` designated its claim receiver itself; the pool's admin cannot change it.
    error ClaimReceiverSetByHolder(address holder);
    /// @notice The servicer and admin roles of a pool must be held by different accounts
    /// (finding M2); `account` would hold both.
    error RolesNotSplit(address account);
    /// @notice The declared performing balance is above what the pool's capital can still have
    /// outstanding: the AID sent to the funding recipient less the principal proceeds declared
    /// since (finding M2).
    error PerformingBalanceTooLarge(uint256 performingBalance, uint256 maxPerformingBalance);
    /// @notice A proposed fee recipient takes effect at `eta` (unix seconds) at the earliest.
    error TimelockNotElapsed(uint256 eta);
    /// @notice No fee recipient change is pending.
    error NoPendingChange();
}
