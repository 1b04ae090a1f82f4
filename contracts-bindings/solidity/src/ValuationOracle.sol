// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
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
    /// Strictly increasing per asset.
    uint64 round;
}

/// @title ValuationOracle
/// @notice Stores the latest valuation report of ONE asset (the oracle is bound to `asset` at
/// deployment; deploy one oracle per asset), accepted only when signed (EIP-712) by at least
/// `quorum` distinct authorised signers. Publishes it as a Chainlink `AggregatorV3Interface` feed
/// (answer = navPerShare, 18 decimals) and as a Morpho-Blue `IOracle.price()`.
/// @dev Fails closed: every read of the *latest* value (`latestRoundData`, `price`,
/// `latestFreshReport`, `ltvBps`, `deployedValue`) reverts when there is no report or the latest
/// one is stale (now > validUntil, or now > observedAt + maxAge). `getRoundData` returns history
/// without a freshness check; `latestReport` returns the raw latest report for monitoring.
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
    /// @notice price() = navPerShare * priceScale, priceScale = 10^(18 + loanDecimals - collateralDecimals).
    uint256 public immutable priceScale;

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

    /// @param admin Holder of DEFAULT_ADMIN_ROLE and GUARDIAN_ROLE.
    /// @param asset_ Asset id (keccak256 of the asset name).
    /// @param description_ Feed description, e.g. "sAID / AID NAV".
    /// @param loanDecimals_ Decimals of the loan token (AID: 18).
    /// @param collateralDecimals_ Decimals of the collateral token (sAID: 24).
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
        if (uint256(18) + loanDecimals_ < collateralDecimals_ || uint256(18) + loanDecimals_ - collateralDecimals_ > 60) {
            revert Errors.InvalidDecimals(loanDecimals_, collateralDecimals_);
        }
        asset = asset_;
        _description = description_;
        loanDecimals = loanDecimals_;
        collateralDecimals = collateralDecimals_;
        priceScale = 10 ** (uint256(18) + loanDecimals_ - collateralDecimals_);
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
    /// @dev Reverts unless: the asset matches; round > latestRound; observedAt >= the last
    /// report's observedAt and <= now; observedAt <= validUntil; now <= validUntil and
    /// now <= observedAt + maxAge; navPerShare > 0; haircutBps, ltvBps <= 10_000; the NAV move
    /// vs the last report is within maxDeviationBps or the digest was pre-approved by a guardian;
    /// every signature is a valid low-s 65-byte ECDSA signature of `digest(report)` by a distinct
    /// authorised signer, and there are at least `quorum` of them.
    /// @param report The report.
    /// @param signatures 65-byte (r ‖ s ‖ v) signatures of `digest(report)`, in any order.
    function submit(ValuationReport calldata report, bytes[] calldata signatures) external {
        if (report.asset != asset) revert Errors.WrongAsset(asset, report.asset);
        uint64 last = latestRound;
        if (report.round <= last) revert Errors.RoundNotIncreasing(last, report.round);
        ValuationReport storage prev = _reports[last];
        if (last != 0 && report.observedAt < prev.observedAt) {
            revert Errors.ObservationOlderThanLast(prev.observedAt, report.observedAt);
        }
        if (report.observedAt > block.timestamp) revert Errors.ObservationInFuture(report.observedAt, block.timestamp);
        if (report.validUntil < report.observedAt) revert Errors.InvalidValidity(report.observedAt, report.validUntil);
        _checkFresh(report.observedAt, report.validUntil);
        if (report.navPerShare == 0) revert Errors.ZeroNav();
        if (report.haircutBps > 10_000) revert Errors.BpsTooLarge(report.haircutBps);
        if (report.ltvBps > 10_000) revert Errors.BpsTooLarge(report.ltvBps);

        bytes32 d = digest(report);
        if (last != 0 && !_withinDeviation(prev.navPerShare, report.navPerShare)) {
            if (!guardianApproved[d]) {
                revert Errors.DeviationTooLarge(prev.navPerShare, report.navPerShare, maxDeviationBps);
            }
            delete guardianApproved[d];
            emit GuardianApproval(d, false);
        }
        _verifySignatures(d, signatures);

        _reports[report.round] = report;
        latestRound = report.round;
        emit ReportSubmitted(report.round, report.runId, report.navPerShare, report.deployedValue, report.observedAt);
        emit AnswerUpdated(int256(report.navPerShare), report.round, report.observedAt);
    }

    /// @notice Guardian pre-approval of a report digest whose NAV move exceeds maxDeviationBps.
    /// The report still needs its quorum of signatures; the approval is consumed on use.
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

    /// @notice Loan-to-value (bps) from the fresh latest report.
    /// @return The LTV in bps; reverts if missing or stale.
    function ltvBps() external view returns (uint16) {
        return latestFreshReport().ltvBps;
    }

    /// @inheritdoc IOracle
    /// @dev price = navPerShare * 10^(18 + loanDecimals - collateralDecimals); reverts if the
    /// latest report is missing or stale.
    function price() external view returns (uint256) {
        return latestFreshReport().navPerShare * priceScale;
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
    /// @dev Fails closed: reverts `NoReport` / `ReportStale` instead of returning stale data.
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        ValuationReport memory r = latestFreshReport();
        return (r.round, int256(r.navPerShare), r.observedAt, r.observedAt, r.round);
    }

    // ------------------------------------------------------------------ internals

    function _checkFresh(uint64 observedAt, uint64 validUntil) internal view {
        if (block.timestamp > validUntil || block.timestamp > uint256(observedAt) + maxAge) {
            revert Errors.ReportStale(observedAt, validUntil, block.timestamp);
        }
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
