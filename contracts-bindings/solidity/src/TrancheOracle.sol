// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ValuationOracle} from "./ValuationOracle.sol";
import {Errors} from "./Errors.sol";

/// @notice The signed per-tranche price report (EIP-712 struct `TranchePriceReport`). Field
/// names, types and order are part of the signed type string and must not change.
struct TranchePriceReport {
    /// keccak256 of the pool id, e.g. keccak256("pool-a"): the oracle's `asset`.
    bytes32 pool;
    /// The pool period the prices are for: the pool's `period()` (periods closed so far) when it
    /// was valued. Accepted, and read, only while the pool is at that period (finding M1).
    uint64 period;
    /// Per tranche, senior first: AID per whole tranche token, 1e18 fixed point (1e18 = par).
    uint256[] prices;
    /// Unix seconds of the valuation.
    uint64 observedAt;
    /// Unix seconds after which the report must not be used.
    uint64 validUntil;
    /// SHA-256 of the run manifest that produced the prices.
    bytes32 runId;
    /// Sequential: exactly `latestTrancheRound + 1` (its own sequence, apart from the NAV's).
    uint64 round;
}

/// @notice What a `TrancheOracle` reads from its `TranchedPool`.
interface ITranchedPoolView {
    /// @notice Periods closed so far.
    function period() external view returns (uint256);
    /// @notice Outstanding balance of tranche `j`, wei.
    function trancheBalance(uint256 j) external view returns (uint256);
}

/// @title TrancheOracle
/// @notice A `ValuationOracle` bound to one `TranchedPool` (`asset` = keccak256 of the pool id)
/// that also carries each tranche token's price from a run, as a second report type,
/// `TranchePriceReport`, under the same rules: the same signers and quorum, the same EIP-712
/// domain, the same freshness (`validUntil`, `maxAge`), the same per-report deviation cap and
/// growth / mark-down rates (applied to every tranche's price), the same minimum interval and
/// the same guardian approvals (`approveReport` on the report's digest, consumed on use). So a
/// lending market or vault can value tranche tokens: `tranchePrice(j)` fails closed once stale
/// and once the pool has closed another period than the one the prices are for (finding M1: a
/// price from before a period close still counts the principal that close paid out).
/// @dev A tranche price at 0 (e.g. a written-off equity) can only rise with a guardian's
/// approval (no rate allows a move away from 0). The number of tranches and each one's maximum
/// price are fixed at deployment. Across a period close the rate rules compare a tranche's price
/// with its last price rebased to the tranche's new outstanding balance (last price x balance
/// now / balance then, rounded down): principal paid out lowers a token's value without a
/// mark-down, a capitalised shortfall raises it without growth.
contract TrancheOracle is ValuationOracle {
    /// @notice EIP-712 type hash of `TranchePriceReport`.
    bytes32 public constant TRANCHE_REPORT_TYPEHASH = keccak256(
        "TranchePriceReport(bytes32 pool,uint64 period,uint256[] prices,uint64 observedAt,uint64 validUntil,bytes32 runId,uint64 round)"
    );
    /// @notice Most tranches a report may price (as TranchedPool.MAX_TRANCHES).
    uint256 public constant MAX_TRANCHES = 8;

    /// @notice Round of the latest accepted tranche price report (0: none).
    uint64 public latestTrancheRound;
    /// @notice Block time of the latest accepted tranche price submission.
    uint64 public lastTrancheSubmittedAt;
    mapping(uint64 => TranchePriceReport) private _trancheReports;
    /// @notice Each tranche's highest acceptable price, AID wei per whole token (fixed at
    /// deployment; its length is the pool's tranche count, which every report must match).
    uint256[] public maxPrices;
    /// @notice The pool whose tranches are priced (its `period()` is what a report must carry).
    ITranchedPoolView public immutable tranchedPool;
    /// @dev Each tranche's outstanding balance (wei) at the latest accepted report's period.
    uint256[] private _pricedBalances;

    /// @notice A tranche price report was accepted.
    event TranchePricesSubmitted(uint64 indexed round, bytes32 indexed runId, uint256[] prices, uint64 observedAt);

    /// @param admin Holder of DEFAULT_ADMIN_ROLE and GUARDIAN_ROLE.
    /// @param pool Pool id (keccak256 of the pool name), the oracle's `asset`.
    /// @param tranchedPool_ The `TranchedPool` of that id (non-zero; its `period()` and
    /// `trancheBalance(j)` are read at every submission and its `period()` at every price read).
    /// @param description_ Feed description, e.g. "pool-a tranches / AID".
    /// @param signers Initial authorised signers.
    /// @param quorum_ Initial quorum, 1..signers.length.
    /// @param maxAge_ Maximum report age in seconds.
    /// @param maxDeviationBps_ Maximum price move per report without guardian approval, bps.
    /// @param maxPrices_ Each tranche's highest acceptable price, 1e18 fixed point (1..=2^128-1);
    /// one per tranche of the pool (1..=8), senior first.
    constructor(
        address admin,
        bytes32 pool,
        ITranchedPoolView tranchedPool_,
        string memory description_,
        address[] memory signers,
        uint256 quorum_,
        uint64 maxAge_,
        uint16 maxDeviationBps_,
        uint256[] memory maxPrices_
    ) ValuationOracle(admin, pool, description_, 18, 18, signers, quorum_, maxAge_, maxDeviationBps_) {
        if (address(tranchedPool_) == address(0)) revert Errors.ZeroAddress();
        tranchedPool = tranchedPool_;
        uint256 n = maxPrices_.length;
        if (n == 0 || n > MAX_TRANCHES) revert Errors.InvalidTrancheCount(n);
        for (uint256 j = 0; j < n; j++) {
            if (maxPrices_[j] == 0 || maxPrices_[j] > MAX_VALUE) revert Errors.InvalidMaxPrice(j, maxPrices_[j]);
        }
        maxPrices = maxPrices_;
    }

    /// @notice The pool's tranche count (every report prices exactly this many).
    /// @return Count.
    function trancheCount() external view returns (uint256) {
        return maxPrices.length;
    }

    /// @notice EIP-712 `hashStruct` of a tranche price report.
    /// @param r The report.
    /// @return keccak256(abi.encode(TRANCHE_REPORT_TYPEHASH, pool, period, keccak256(abi.encodePacked(prices)), ...)).
    function trancheStructHash(TranchePriceReport calldata r) public pure returns (bytes32) {
        return keccak256(
            abi.encode(
                TRANCHE_REPORT_TYPEHASH,
                r.pool,
                r.period,
                keccak256(abi.encodePacked(r.prices)),
                r.observedAt,
                r.validUntil,
                r.runId,
                r.round
            )
        );
    }

    /// @notice EIP-712 digest of a tranche price report under this oracle's domain.
    /// @param r The report.
    /// @return What the signers sign.
    function trancheDigest(TranchePriceReport calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(trancheStructHash(r));
    }

    /// @notice Submits a signed tranche price report. Anyone may relay it.
    /// @dev Reverts unless: pool == asset; period == the pool's `period()` (`WrongPeriod`);
    /// round == latestTrancheRound + 1; as many prices as the
    /// pool's tranches (`trancheCount`); each price <= its `maxPrices` entry; observedAt >= the last one's and <= now;
    /// observedAt <= validUntil; fresh (now <= validUntil, now <= observedAt + maxAge); unless
    /// a guardian pre-approved the digest: observedAt > the last one's, now >=
    /// lastTrancheSubmittedAt + minReportInterval, and every tranche's price within
    /// maxDeviationBps of its last price and within the growth / mark-down rates over the
    /// observation time (the last price rebased to the tranche's outstanding balance when the
    /// pool closed periods since); at least `quorum` distinct authorised low-s signatures.
    /// @param r The report.
    /// @param signatures 65-byte (r ‖ s ‖ v) signatures of `trancheDigest(r)`.
    function submitTranchePrices(TranchePriceReport calldata r, bytes[] calldata signatures) external {
        if (r.pool != asset) revert Errors.WrongAsset(asset, r.pool);
        uint256 current = tranchedPool.period();
        if (r.period != current) revert Errors.WrongPeriod(current, r.period);
        uint64 last = latestTrancheRound;
        if (r.round <= last) revert Errors.RoundNotIncreasing(last, r.round);
        if (r.round != last + 1) revert Errors.RoundNotSequential(last, r.round);
        TranchePriceReport storage prev = _trancheReports[last];
        uint256 n = r.prices.length;
        if (n != maxPrices.length) revert Errors.InvalidTrancheCount(n);
        if (last != 0 && r.observedAt < prev.observedAt) {
            revert Errors.ObservationOlderThanLast(prev.observedAt, r.observedAt);
        }
        if (r.observedAt > block.timestamp) revert Errors.ObservationInFuture(r.observedAt, block.timestamp);
        if (r.validUntil < r.observedAt) revert Errors.InvalidValidity(r.observedAt, r.validUntil);
        _checkFresh(r.observedAt, r.validUntil);
        for (uint256 j = 0; j < n; j++) {
            if (r.prices[j] > maxPrices[j]) revert Errors.PriceAboveMax(j, r.prices[j], maxPrices[j]);
        }
        uint256[] memory balances = new uint256[](n);
        for (uint256 j = 0; j < n; j++) {
            balances[j] = tranchedPool.trancheBalance(j);
        }
        bytes32 d = trancheDigest(r);
        if (last != 0) {
            if (guardianApproved[d]) {
                delete guardianApproved[d];
                emit GuardianApproval(d, false);
            } else {
                _checkTrancheRates(prev, r, balances);
            }
        }
        _verifySignatures(d, signatures);
        _trancheReports[r.round] = r;
        _pricedBalances = balances;
        latestTrancheRound = r.round;
        lastTrancheSubmittedAt = uint64(block.timestamp);
        emit TranchePricesSubmitted(r.round, r.runId, r.prices, r.observedAt);
    }

    /// @notice The latest tranche price report, without a freshness check (monitoring).
    /// @return The report; reverts `NoReport` before the first.
    function latestTranchePrices() external view returns (TranchePriceReport memory) {
        if (latestTrancheRound == 0) revert Errors.NoReport();
        return _trancheReports[latestTrancheRound];
    }

    /// @notice Whether the latest tranche price report exists, is fresh and is for the pool's
    /// current period.
    /// @return True if `tranchePrice` would not revert for a valid index.
    function isTranchePriceFresh() public view returns (bool) {
        uint64 last = latestTrancheRound;
        if (last == 0) return false;
        TranchePriceReport storage r = _trancheReports[last];
        return block.timestamp <= r.validUntil && block.timestamp <= uint256(r.observedAt) + maxAge
            && r.period == tranchedPool.period();
    }

    /// @notice Tranche `j`'s price, AID per whole token, 1e18 fixed point (1e18 = par). Fails
    /// closed: reverts `NoReport` before the first report, `ReportStale` once stale and
    /// `WrongPeriod` once the pool has closed a period since the report's (finding M1).
    /// @param j Tranche index (0 = most senior).
    /// @return Price, 1e18 fixed point.
    function tranchePrice(uint256 j) external view returns (uint256) {
        uint64 last = latestTrancheRound;
        if (last == 0) revert Errors.NoReport();
        TranchePriceReport storage r = _trancheReports[last];
        _checkFresh(r.observedAt, r.validUntil);
        uint256 current = tranchedPool.period();
        if (r.period != current) revert Errors.WrongPeriod(current, r.period);
        if (j >= r.prices.length) revert Errors.UnknownTranche(j);
        return r.prices[j];
    }

    /// @dev The rate rules without a guardian's approval, for every tranche's price; across a
    /// period close against the last price rebased to the tranche's balance now (`balances`).
    function _checkTrancheRates(
        TranchePriceReport storage prev,
        TranchePriceReport calldata r,
        uint256[] memory balances
    ) internal view {
        bool rebase = prev.period != r.period;
        if (r.observedAt <= prev.observedAt) revert Errors.SameObservationTime(prev.observedAt, r.observedAt);
        uint256 dt = r.observedAt - prev.observedAt;
        for (uint256 j = 0; j < r.prices.length; j++) {
            uint256 lastP = prev.prices[j];
            if (rebase && _pricedBalances[j] != 0) lastP = (lastP * balances[j]) / _pricedBalances[j];
            uint256 p = r.prices[j];
            if (!_withinDeviation(lastP, p)) revert Errors.DeviationTooLarge(lastP, p, maxDeviationBps);
            (bool ok, uint256 bound) = _withinRate(lastP, p, dt);
            if (!ok && p > lastP) revert Errors.GrowthTooFast(lastP, p, bound);
            if (!ok) revert Errors.MarkdownTooFast(lastP, p, bound);
        }
        uint256 earliest = uint256(lastTrancheSubmittedAt) + minReportInterval;
        if (block.timestamp < earliest) revert Errors.ReportTooSoon(earliest, block.timestamp);
    }
}
