// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {IOracle} from "./interfaces/IOracle.sol";
import {ICollateralOracle} from "./interfaces/ICollateralOracle.sol";
import {Errors} from "./Errors.sol";

/// @notice The signed valuation report (EIP-712 struct `ValuationReport`). Field names, types and
/// order are part of the signed type string and must not change.
struct ValuationReport {
    /// keccak256 of the asset id, e.g. keccak256("sAID").
    bytes32 asset;
    /// 1e18 fixed point: AID per whole share of the asset.
    uint256 navPerShare;
    /// 1e18: AID value of the asset's off-chain (deployed) holdings.
    uint256 deployedValue;
    uint16 haircutBps;
    uint16 ltvBps;
    /// Unix seconds of the valuation.
    uint64 observedAt;
    /// Unix seconds after which the report must not be used.
    uint64 validUntil;
    /// SHA-256 of the run manifest that produced the report.
    bytes32 runId;
    /// Sequential per asset: exactly the oracle's latestRound + 1.
    uint64 round;
}

/// @title ValuationOracle
/// @notice Stores the latest valuation report of ONE asset (the oracle is bound to `asset` at
/// deployment; deploy one oracle per asset), accepted only when signed (EIP-712) by at least
/// `quorum` distinct authorised signers. Publishes it as a Chainlink `AggregatorV3Interface` feed
/// (answer = navPerShare, 18 decimals) and as a Morpho-Blue `IOracle.price()`.
/// @dev Reads. Every read reverts `NoReport` before the first report. `latestFreshReport` and
/// `deployedValue` (what sAID values its deployed capital with) fail closed: they revert
/// `ReportStale` once the latest report is stale (now > validUntil, or now > observedAt +
/// maxAge). The *prices* for lenders (`price`, `latestRoundData`) do not revert when stale: they
/// return a conservative NAV that decays linearly from the last reported NAV to zero over
/// `stalePriceDecay` seconds after the report went stale (`conservativeNav`), so a lending
/// market can still liquidate while it refuses to lend (it checks `isFresh`). `ltvBps` returns
/// the latest report's LTV (the decaying price carries the conservatism). `getRoundData` returns
/// history without a freshness check; `latestReport` returns the raw latest report.
///
/// Rate of change. Besides the per-report deviation cap, a report must not raise the NAV faster
/// than `maxGrowthBpsPerYear` (linear, CAPO-style) over the time between its observation and the
/// last report's, must be observed strictly after the last report, and must be submitted at least
/// `minReportInterval` seconds after the last accepted submission. A guardian's pre-approval of
/// the report digest lifts these three rate rules and the deviation cap for that one report (a
/// legitimate large move); signatures, quorum, sequence and freshness always apply.
/// EIP-712 domain: name "gaib ValuationOracle", version "1", chainId, verifyingContract = this.
contract ValuationOracle is AccessControl, EIP712, AggregatorV3Interface, ICollateralOracle {
    /// @notice Role that may pre-approve a report whose NAV moves beyond `maxDeviationBps`.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice EIP-712 type hash of `ValuationReport`.
    bytes32 public constant REPORT_TYPEHASH = keccak256(
        "ValuationReport(bytes32 asset,uint256 navPerShare,uint256 deployedValue,uint16 haircutBps,uint16 ltvBps,uint64 observedAt,uint64 validUntil,bytes32 runId,uint64 round)"
    );

    /// @notice The asset id (keccak256 of e.g. "sAID") this oracle reports on.
    bytes32 public immutable asset;
    /// @notice Decimals of the loan token for `price()` (AID: 18).
    uint8 public immutable loanDecimals;
    /// @notice Decimals of the collateral (share) token for `price()` (sAID: 24).
    uint8 public immutable collateralDecimals;
    /// @notice price() = navPerShare * priceScale / priceDivisor: priceScale =
    /// 10^(18 + loanDecimals - collateralDecimals) when that exponent is >= 0 (else 1).
    uint256 public immutable priceScale;
    /// @notice 10^(collateralDecimals - 18 - loanDecimals) when that exponent is > 0 (else 1):
    /// collateral with more than 18 + loanDecimals decimals (price rounded down).
    uint256 public immutable priceDivisor;
    /// @notice Seconds in the year of `maxGrowthBpsPerYear` (365 days).
    uint256 public constant YEAR = 365 days;
    /// @notice Seconds in the day of `maxMarkdownBpsPerDay`.
    uint256 public constant DAY = 1 days;
    /// @notice Upper bound of a report's `deployedValue` (and of `navPerShare`, see
    /// `maxNavPerShare`): 2^128 - 1, so that sAID's idle + deployedValue cannot overflow.
    uint256 public constant MAX_VALUE = type(uint128).max;
    /// @notice Upper bound of a report's `navPerShare`, applied even to guardian-approved
    /// reports: min(MAX_VALUE, floor((2^256 - 1) / priceScale)), so `price()` cannot overflow and
    /// `latestRoundData`'s int256 answer cannot wrap.
    uint256 public immutable maxNavPerShare;

    string private _description;

    /// @notice Whether an address is an authorised signer.
    mapping(address => bool) public isSigner;
    /// @notice Number of authorised signers.
    uint256 public signerCount;
    /// @notice Minimum number of distinct authorised signatures on a report.
    uint256 public quorum;
    /// @notice Maximum age (seconds since observedAt) of a report, at submission and at read.
    uint64 public maxAge;
    /// @notice Maximum |navPerShare change| vs the last report, in bps of the last navPerShare,
    /// accepted without a guardian's pre-approval.
    uint16 public maxDeviationBps;
    /// @notice Report digests pre-approved by a guardian (consumed on use).
    mapping(bytes32 => bool) public guardianApproved;
    /// @notice Maximum NAV growth vs the last report, in bps per year of observation time
    /// (linear): navPerShare <= last + last * maxGrowthBpsPerYear * (observedAt - lastObservedAt)
    /// / (10_000 * YEAR), unless guardian-approved. Default 2_000 (20 %/year).
    uint32 public maxGrowthBpsPerYear = 2_000;
    /// @notice Maximum NAV fall vs the last report, in bps per day of observation time (linear):
    /// navPerShare >= last - last * maxMarkdownBpsPerDay * (observedAt - lastObservedAt) /
    /// (10_000 * DAY), unless guardian-approved. Default 1_000 (10 %/day): compounded over many
    /// reports the NAV still falls by at most that fraction per day of observation time.
    uint32 public maxMarkdownBpsPerDay = 1_000;
    /// @notice Minimum seconds between two accepted submissions (block time), unless
    /// guardian-approved. Default 0: only the same-timestamp rule (a report must be observed
    /// strictly after the last one) applies.
    uint64 public minReportInterval;
    /// @notice Seconds over which the lenders' price decays linearly to zero once the latest
    /// report is stale. Default 7 days; 0: the price is zero as soon as the report is stale.
    uint64 public stalePriceDecay = 7 days;
    /// @notice Block time of the latest accepted submission.
    uint64 public lastSubmittedAt;

    /// @notice Round of the latest accepted report (0: none).
    uint64 public latestRound;
    mapping(uint64 => ValuationReport) private _reports;

    /// @notice A report was accepted.
    event ReportSubmitted(
        uint64 indexed round, bytes32 indexed runId, uint256 navPerShare, uint256 deployedValue, uint64 observedAt
    );
    /// @notice Chainlink-style event.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    /// @notice A signer was added or removed.
    event SignerSet(address indexed signer, bool authorised);
    /// @notice Quorum changed.
    event QuorumSet(uint256 quorum);
    /// @notice maxAge changed.
    event MaxAgeSet(uint64 maxAge);
    /// @notice maxDeviationBps changed.
    event MaxDeviationSet(uint16 maxDeviationBps);
    /// @notice A guardian pre-approved (or revoked) a report digest.
    event GuardianApproval(bytes32 indexed digest, bool approved);
    /// @notice The rate-of-change limits changed.
    event RateLimitsSet(uint32 maxGrowthBpsPerYear, uint64 minReportInterval);
    /// @notice The mark-down rate limit changed.
    event MarkdownLimitSet(uint32 maxMarkdownBpsPerDay);
    /// @notice The stale-price decay period changed.
    event StalePriceDecaySet(uint64 stalePriceDecay);

    /// @param admin Holder of DEFAULT_ADMIN_ROLE and GUARDIAN_ROLE.
    /// @param asset_ Asset id (keccak256 of the asset name).
    /// @param description_ Feed description, e.g. "sAID / AID NAV".
    /// @param loanDecimals_ Decimals of the loan token (AID: 18).
    /// @param collateralDecimals_ Decimals of the collateral token (sAID: 24); at most
    /// 36 + loanDecimals_ (below that the price is divided, rounded down).
    /// @param signers Initial authorised signers (distinct, non-zero).
    /// @param quorum_ Initial quorum, 1..signers.length.
    /// @param maxAge_ Maximum report age in seconds.
    /// @param maxDeviationBps_ Maximum NAV move without guardian approval.
    constructor(
        address admin,
        bytes32 asset_,
        string memory description_,
        uint8 loanDecimals_,
        uint8 collateralDecimals_,
        address[] memory signers,
        uint256 quorum_,
        uint64 maxAge_,
        uint16 maxDeviationBps_
    ) EIP712("gaib ValuationOracle", "1") {
        if (admin == address(0)) revert Errors.ZeroAddress();
        uint256 up = uint256(18) + loanDecimals_;
        if (up >= collateralDecimals_) {
            if (up - collateralDecimals_ > 60) revert Errors.InvalidDecimals(loanDecimals_, collateralDecimals_);
            priceScale = 10 ** (up - collateralDecimals_);
            priceDivisor = 1;
        } else {
            // Morpho-style markets accept collateral with more decimals than 18 + loan decimals:
            // divide instead (floor), at most 10^18 so a NAV of 1e18 stays >= 1 wei of price.
            if (collateralDecimals_ - up > 18) revert Errors.InvalidDecimals(loanDecimals_, collateralDecimals_);
            priceScale = 1;
            priceDivisor = 10 ** (collateralDecimals_ - up);
        }
        maxNavPerShare = Math.min(MAX_VALUE, type(uint256).max / priceScale);
        asset = asset_;
        _description = description_;
        loanDecimals = loanDecimals_;
        collateralDecimals = collateralDecimals_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GUARDIAN_ROLE, admin);
        for (uint256 i = 0; i < signers.length; i++) {
            _addSigner(signers[i]);
        }
        _setQuorum(quorum_);
        maxAge = maxAge_;
        emit MaxAgeSet(maxAge_);
        _setMaxDeviation(maxDeviationBps_);
    }

    // ------------------------------------------------------------------ submission

    /// @notice EIP-712 digest of a report under this oracle's domain (what signers sign).
    /// @param report The report.
    /// @return The typed-data hash `keccak256("\x19\x01" ‖ domainSeparator ‖ hashStruct(report))`.
    function digest(ValuationReport calldata report) public view returns (bytes32) {
        return _hashTypedDataV4(structHash(report));
    }

    /// @notice EIP-712 `hashStruct` of a report.
    /// @param report The report.
    /// @return keccak256(abi.encode(REPORT_TYPEHASH, fields...)).
    function structHash(ValuationReport calldata report) public pure returns (bytes32) {
        return keccak256(
            abi.encode(
                REPORT_TYPEHASH,
                report.asset,
                report.navPerShare,
                report.deployedValue,
                report.haircutBps,
                report.ltvBps,
                report.observedAt,
                report.validUntil,
                report.runId,
                report.round
            )
        );
    }

    /// @notice The EIP-712 domain separator of this oracle on the current chain.
    /// @return The domain separator.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice Submits a signed report. Anyone may relay it; authority comes from the signatures.
    /// @dev Reverts unless: the asset matches; round == latestRound + 1 (strictly sequential,
    /// so no round can be skipped and none can end the sequence); observedAt >= the last
    /// report's observedAt and <= now; observedAt <= validUntil; now <= validUntil and
    /// now <= observedAt + maxAge; 0 < navPerShare <= maxNavPerShare; deployedValue <=
    /// MAX_VALUE; haircutBps, ltvBps <= 10_000; unless the digest was pre-approved by a
    /// guardian: the NAV move vs the last report is within maxDeviationBps, the NAV's and the
    /// LTV's rise within maxGrowthBpsPerYear and fall within maxMarkdownBpsPerDay over
    /// (observedAt - lastObservedAt), observedAt > the last observedAt, and now >=
    /// lastSubmittedAt + minReportInterval; every signature is a valid low-s 65-byte ECDSA signature of
    /// `digest(report)` by a distinct authorised signer, and there are at least `quorum` of them.
    /// @param report The report.
    /// @param signatures 65-byte (r ‖ s ‖ v) signatures of `digest(report)`, in any order.
    function submit(ValuationReport calldata report, bytes[] calldata signatures) external {
        if (report.asset != asset) revert Errors.WrongAsset(asset, report.asset);
        uint64 last = latestRound;
        if (report.round <= last) revert Errors.RoundNotIncreasing(last, report.round);
        if (report.round != last + 1) revert Errors.RoundNotSequential(last, report.round);
        ValuationReport storage prev = _reports[last];
        if (last != 0 && report.observedAt < prev.observedAt) {
            revert Errors.ObservationOlderThanLast(prev.observedAt, report.observedAt);
        }
        if (report.observedAt > block.timestamp) revert Errors.ObservationInFuture(report.observedAt, block.timestamp);
        if (report.validUntil < report.observedAt) revert Errors.InvalidValidity(report.observedAt, report.validUntil);
        _checkFresh(report.observedAt, report.validUntil);
        if (report.navPerShare == 0) revert Errors.ZeroNav();
        if (report.navPerShare > maxNavPerShare) revert Errors.ValueTooLarge(report.navPerShare, maxNavPerShare);
        if (report.deployedValue > MAX_VALUE) revert Errors.ValueTooLarge(report.deployedValue, MAX_VALUE);
        if (report.haircutBps > 10_000) revert Errors.BpsTooLarge(report.haircutBps);
        if (report.ltvBps > 10_000) revert Errors.BpsTooLarge(report.ltvBps);

        bytes32 d = digest(report);
        if (last != 0) {
            if (guardianApproved[d]) {
                delete guardianApproved[d];
                emit GuardianApproval(d, false);
            } else {
                _checkRate(prev, report);
            }
        }
        _verifySignatures(d, signatures);

        _reports[report.round] = report;
        latestRound = report.round;
        lastSubmittedAt = uint64(block.timestamp);
        emit ReportSubmitted(report.round, report.runId, report.navPerShare, report.deployedValue, report.observedAt);
        emit AnswerUpdated(int256(report.navPerShare), report.round, report.observedAt);
    }

    /// @notice Guardian pre-approval of a report digest whose NAV move exceeds maxDeviationBps
    /// or the rate limits (growth, same timestamp, minimum interval). The report still needs its
    /// quorum of signatures and must be fresh and sequential; the approval is consumed on use.
    /// @param reportDigest `digest(report)` of the report to approve.
    /// @param approved True to approve, false to revoke.
    function approveReport(bytes32 reportDigest, bool approved) external onlyRole(GUARDIAN_ROLE) {
        guardianApproved[reportDigest] = approved;
        emit GuardianApproval(reportDigest, approved);
    }

    // ------------------------------------------------------------------ admin

    /// @notice Authorises a signer.
    /// @param signer The signer address (non-zero, not yet authorised).
    function addSigner(address signer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _addSigner(signer);
    }

    /// @notice Removes a signer; reverts if the quorum would exceed the remaining signer count.
    /// @param signer The authorised signer to remove.
    function removeSigner(address signer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!isSigner[signer]) revert Errors.SignerState(signer, false);
        isSigner[signer] = false;
        signerCount -= 1;
        if (quorum > signerCount) revert Errors.InvalidQuorum(quorum, signerCount);
        emit SignerSet(signer, false);
    }

    /// @notice Sets the quorum (1..signerCount).
    /// @param quorum_ The new quorum.
    function setQuorum(uint256 quorum_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setQuorum(quorum_);
    }

    /// @notice Sets the maximum report age in seconds (applies at submission and at read).
    /// @param maxAge_ The new maximum age.
    function setMaxAge(uint64 maxAge_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        maxAge = maxAge_;
        emit MaxAgeSet(maxAge_);
    }

    /// @notice Sets the maximum NAV deviation accepted without guardian approval.
    /// @param maxDeviationBps_ The new bound in bps (<= 10_000).
    function setMaxDeviationBps(uint16 maxDeviationBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMaxDeviation(maxDeviationBps_);
    }

    /// @notice Sets the rate-of-change limits.
    /// @param maxGrowthBpsPerYear_ Maximum NAV growth in bps per year of observation time.
    /// @param minReportInterval_ Minimum seconds between accepted submissions.
    function setRateLimits(uint32 maxGrowthBpsPerYear_, uint64 minReportInterval_)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        maxGrowthBpsPerYear = maxGrowthBpsPerYear_;
        minReportInterval = minReportInterval_;
        emit RateLimitsSet(maxGrowthBpsPerYear_, minReportInterval_);
    }

    /// @notice Sets the mark-down rate limit (a report falling faster needs a guardian's
    /// pre-approval).
    /// @param maxMarkdownBpsPerDay_ Maximum NAV fall in bps per day of observation time.
    function setMaxMarkdownBpsPerDay(uint32 maxMarkdownBpsPerDay_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        maxMarkdownBpsPerDay = maxMarkdownBpsPerDay_;
        emit MarkdownLimitSet(maxMarkdownBpsPerDay_);
    }

    /// @notice Sets how long the lenders' price takes to decay to zero once stale.
    /// @param stalePriceDecay_ Seconds (0: zero as soon as stale).
    function setStalePriceDecay(uint64 stalePriceDecay_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        stalePriceDecay = stalePriceDecay_;
        emit StalePriceDecaySet(stalePriceDecay_);
    }

    // ------------------------------------------------------------------ reads

    /// @notice The latest accepted report without a freshness check (monitoring only).
    /// @return The report (all zero if none).
    function latestReport() external view returns (ValuationReport memory) {
        return _reports[latestRound];
    }

    /// @notice The report of a past round, without a freshness check.
    /// @param round The round.
    /// @return The report; reverts `NoReport` if that round was never accepted.
    function reportAt(uint64 round) external view returns (ValuationReport memory) {
        ValuationReport memory r = _reports[round];
        if (round == 0 || r.round != round) revert Errors.NoReport();
        return r;
    }

    /// @notice The latest report, reverting if there is none or it is stale (fail closed).
    /// @return r The fresh latest report.
    function latestFreshReport() public view returns (ValuationReport memory r) {
        if (latestRound == 0) revert Errors.NoReport();
        r = _reports[latestRound];
        _checkFresh(r.observedAt, r.validUntil);
    }

    /// @notice Whether the latest report exists and is fresh now.
    /// @return True if `latestFreshReport()` would not revert.
    function isFresh() external view returns (bool) {
        if (latestRound == 0) return false;
        ValuationReport storage r = _reports[latestRound];
        return block.timestamp <= r.validUntil && block.timestamp <= uint256(r.observedAt) + maxAge;
    }

    /// @notice AID value (1e18) of the asset's deployed holdings from the fresh latest report.
    /// @return The deployed value; reverts if missing or stale.
    function deployedValue() external view returns (uint256) {
        return latestFreshReport().deployedValue;
    }

    /// @notice Loan-to-value (bps) of the latest report, fresh or not (a stale report's price
    /// decays, see `conservativeNav`; borrowing checks `isFresh`).
    /// @return The LTV in bps; reverts `NoReport` if there is none.
    function ltvBps() external view returns (uint16) {
        if (latestRound == 0) revert Errors.NoReport();
        return _reports[latestRound].ltvBps;
    }

    /// @notice The moment the latest report goes stale: min(validUntil, observedAt + maxAge).
    /// @return Unix seconds; reverts `NoReport` if there is none.
    function staleAt() public view returns (uint256) {
        if (latestRound == 0) revert Errors.NoReport();
        ValuationReport storage r = _reports[latestRound];
        return Math.min(r.validUntil, uint256(r.observedAt) + maxAge);
    }

    /// @notice The NAV per share (1e18) lenders get: the latest report's while fresh; once
    /// stale, that NAV decayed linearly to zero over `stalePriceDecay` seconds:
    /// floor(nav * (stalePriceDecay - (now - staleAt)) / stalePriceDecay), 0 after that.
    /// @return The conservative NAV; reverts `NoReport` if there is none.
    function conservativeNav() public view returns (uint256) {
        uint256 s = staleAt();
        uint256 nav = _reports[latestRound].navPerShare;
        if (block.timestamp <= s) return nav;
        uint256 late = block.timestamp - s;
        uint256 decay = stalePriceDecay;
        if (late >= decay) return 0;
        return Math.mulDiv(nav, decay - late, decay);
    }

    /// @inheritdoc IOracle
    /// @dev price = conservativeNav() * priceScale / priceDivisor (rounded down): the reported NAV
    /// while fresh, decaying to zero after staleness (never reverts once a report exists).
    function price() external view returns (uint256) {
        return conservativeNav() * priceScale / priceDivisor;
    }

    /// @inheritdoc AggregatorV3Interface
    function decimals() external pure returns (uint8) {
        return 18;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view returns (string memory) {
        return _description;
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev History: no freshness check. answer = navPerShare, startedAt = updatedAt =
    /// observedAt, answeredInRound = roundId. Reverts `NoReport` for unknown rounds.
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80, int256, uint256, uint256, uint80)
    {
        if (roundId == 0 || roundId > type(uint64).max) revert Errors.NoReport();
        ValuationReport storage r = _reports[uint64(roundId)];
        if (r.round != roundId) revert Errors.NoReport();
        return (roundId, int256(r.navPerShare), r.observedAt, r.observedAt, roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev answer = conservativeNav() (the reported NAV while fresh, decaying once stale);
    /// startedAt = updatedAt = the report's observedAt, so consumers' own staleness checks see
    /// its real age. Reverts `NoReport` before the first report.
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        uint256 nav = conservativeNav();
        ValuationReport storage r = _reports[latestRound];
        return (r.round, int256(nav), r.observedAt, r.observedAt, r.round);
    }

    // ------------------------------------------------------------------ internals

    function _checkFresh(uint64 observedAt, uint64 validUntil) internal view {
        if (block.timestamp > validUntil || block.timestamp > uint256(observedAt) + maxAge) {
            revert Errors.ReportStale(observedAt, validUntil, block.timestamp);
        }
    }

    /// @dev The rate rules a report must meet without a guardian's approval.
    function _checkRate(ValuationReport storage prev, ValuationReport calldata report) internal view {
        uint256 lastNav = prev.navPerShare;
        uint256 nav = report.navPerShare;
        if (!_withinDeviation(lastNav, nav)) revert Errors.DeviationTooLarge(lastNav, nav, maxDeviationBps);
        if (report.observedAt <= prev.observedAt) revert Errors.SameObservationTime(prev.observedAt, report.observedAt);
        uint256 dt = report.observedAt - prev.observedAt;
        (bool ok, uint256 bound) = _withinRate(lastNav, nav, dt);
        if (!ok && nav > lastNav) revert Errors.GrowthTooFast(lastNav, nav, bound);
        if (!ok) revert Errors.MarkdownTooFast(lastNav, nav, bound);
        // the LTV moves lenders' limits as the NAV does (limit = collateral x price x LTV): the
        // same two rates bound it
        (ok, bound) = _withinRate(prev.ltvBps, report.ltvBps, dt);
        if (!ok) revert Errors.LtvMoveTooFast(prev.ltvBps, report.ltvBps, bound);
        uint256 earliest = uint256(lastSubmittedAt) + minReportInterval;
        if (block.timestamp < earliest) revert Errors.ReportTooSoon(earliest, block.timestamp);
    }

    /// @dev Whether a move from `last` to `next` over `dt` seconds of observation time is
    /// within the growth rate (a rise: next <= last + floor(last * maxGrowthBpsPerYear * dt /
    /// (10_000 * YEAR))) or the mark-down rate (a fall: next >= last - floor(last *
    /// maxMarkdownBpsPerDay * dt / (10_000 * DAY))), and that bound.
    function _withinRate(uint256 last, uint256 next, uint256 dt) internal view returns (bool, uint256) {
        if (next > last) {
            uint256 up = Math.mulDiv(last, uint256(maxGrowthBpsPerYear) * dt, 10_000 * YEAR);
            return (next - last <= up, last + up);
        }
        uint256 down = Math.mulDiv(last, uint256(maxMarkdownBpsPerDay) * dt, 10_000 * DAY);
        return (last - next <= down, last - Math.min(down, last));
    }

    /// @dev |nav - lastNav| * 10_000 <= maxDeviationBps * lastNav (exact, no rounding).
    function _withinDeviation(uint256 lastNav, uint256 nav) internal view returns (bool) {
        uint256 diff = nav > lastNav ? nav - lastNav : lastNav - nav;
        // lastNav < 2^256 / 10_000 is not guaranteed; compare via division-free form safely.
        (bool okA, uint256 lhs) = _mul(diff, 10_000);
        (bool okB, uint256 rhs) = _mul(lastNav, maxDeviationBps);
        if (!okA) return false; // diff astronomically large
        if (!okB) return true; // bound astronomically large
        return lhs <= rhs;
    }

    function _mul(uint256 a, uint256 b) private pure returns (bool, uint256) {
        unchecked {
            if (a == 0) return (true, 0);
            uint256 c = a * b;
            if (c / a != b) return (false, 0);
            return (true, c);
        }
    }

    function _verifySignatures(bytes32 d, bytes[] calldata signatures) internal view {
        uint256 n = signatures.length;
        address[] memory seen = new address[](n);
        for (uint256 i = 0; i < n; i++) {
            // OZ ECDSA reverts on malformed length, high-s (malleable) and invalid signatures.
            address signer = ECDSA.recoverCalldata(d, signatures[i]);
            if (!isSigner[signer]) revert Errors.UnknownSigner(signer);
            for (uint256 j = 0; j < i; j++) {
                if (seen[j] == signer) revert Errors.DuplicateSigner(signer);
            }
            seen[i] = signer;
        }
        if (n < quorum) revert Errors.QuorumNotMet(n, quorum);
    }

    function _addSigner(address signer) internal {
        if (signer == address(0)) revert Errors.ZeroAddress();
        if (isSigner[signer]) revert Errors.SignerState(signer, true);
        isSigner[signer] = true;
        signerCount += 1;
        emit SignerSet(signer, true);
    }

    function _setQuorum(uint256 quorum_) internal {
        if (quorum_ == 0 || quorum_ > signerCount) revert Errors.InvalidQuorum(quorum_, signerCount);
        quorum = quorum_;
        emit QuorumSet(quorum_);
    }

    function _setMaxDeviation(uint16 bps) internal {
        if (bps > 10_000) revert Errors.BpsTooLarge(bps);
        maxDeviationBps = bps;
        emit MaxDeviationSet(bps);
    }
}
