// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ValuationOracle} from "./ValuationOracle.sol";
import {Errors} from "./Errors.sol";

/// @title sAID
/// @notice ERC-4626 vault over AID whose assets are partly deployed off-chain. Deposits are
/// synchronous at the current NAV; redemptions are asynchronous in the ERC-7540 style:
/// `requestRedeem` escrows shares into a FIFO queue, `fulfil` settles the queue once per cycle
/// (`cycleLength`, default 30 days) at the NAV at fulfilment, from idle AID only (a request that
/// idle liquidity cannot cover is filled partially and the rest rolls over, keeping its place),
/// and the controller claims with `redeem`/`withdraw(…, receiver, controller)`.
///
/// NAV. `rawTotalAssets() = idle + oracle.deployedValue()`, where idle = AID held minus AID
/// reserved for claimable redemptions, and the oracle read fails closed (reverts when the
/// report is missing or stale, or when capital was deployed after the latest report's
/// observation, see `deployCapital`); deposits, mints, fulfilments and `pokeGrowthCap` go
/// through it and revert then, and `maxDeposit`/`maxMint` are 0.
///
/// ONE bounded figure prices everything. The raw NAV moves with the report's `deployedValue`,
/// which no oracle cap sees (only `navPerShare` is capped there), so the vault bounds its own
/// rate of change in both directions from an anchor (`capBase` at `capBaseAt`):
/// `capAssets(t) = capBase + capBase * maxNavGrowthBpsPerYear * (t - capBaseAt) / (10_000 *
/// 365 days)` (CAPO-style growth cap) and `floorAssets(t) = capBase - capBase *
/// maxNavDropBpsPerDay * (t - capBaseAt) / (10_000 * 1 days)` (mark-down floor, at least 0), and
/// the vault's NAV is the raw NAV clamped between them: `totalAssets() = clamp(lastValuedAssets(),
/// floorAssets(), capAssets())`, where `lastValuedAssets() = idle + the latest report's
/// deployedValue` (fresh or not; 0 before any report) so the ERC-4626 views never revert
/// (EIP-4626); while the NAV is valued it equals `clamp(rawTotalAssets(), floor, cap)`. Deposits,
/// mints, fulfilments and `convertTo*` all use this figure, so a report (or a donation) moves the
/// share price by at most the two rates per unit of time, and every holder, old or new, gets the
/// same price. Every deposit, mint and fulfilment first re-anchors `capBase = totalAssets()`
/// (`pokeGrowthCap`), then moves `capBase` by exactly the assets that flowed in or out. A
/// genuine loss beyond the floor (or gain beyond the cap) is recognised at once only by the
/// vault's guardian (`acceptValuation`); without it a mark-down is released at
/// `maxNavDropBpsPerDay` and a mark-up at `maxNavGrowthBpsPerYear`. Whoever holds shares while a
/// difference is released shares in it pro rata (a depositor buys at the bounded figure, not at
/// the raw NAV), so a large verified revaluation should be accepted at once. All
/// conversions round in the vault's favour; together this makes the share price
/// (totalAssets + 1) / (totalSupply + 1e6) never fall on a deposit, mint or fulfilment.
///
/// Redemption requests are tracked per request id (ERC-7540 with non-zero ids): each request has
/// its own pending and claimable shares and claimable assets. Claims (`redeem`/`withdraw`, which
/// carry no request id) consume a controller's claimable requests oldest first.
///
/// Inflation defence: OpenZeppelin's virtual shares with `_decimalsOffset() = 6`, so sAID has
/// 24 decimals; `navPerShare` (oracle, 1e18) is AID per whole sAID (1e24 units).
contract SAID is ERC4626, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using Math for uint256;

    /// @notice May move idle AID to off-chain deployment and set parameters.
    bytes32 public constant MANAGER_ROLE = keccak256("MANAGER_ROLE");

    uint8 private constant OFFSET = 6;
    uint256 private constant VIRTUAL_SHARES = 10 ** OFFSET;
    uint256 private constant YEAR = 365 days;
    uint256 private constant DAY = 1 days;

    /// @notice May recognise the raw NAV at once, beyond the floor or the cap (`acceptValuation`).
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice Source of the deployed-capital value.
    ValuationOracle public immutable oracle;

    /// @notice Seconds between fulfilments.
    uint256 public cycleLength = 30 days;
    /// @notice Earliest time of the next fulfilment (end of the current cycle).
    uint256 public cycleEnd;
    /// @notice AID held for claimable (fulfilled, unclaimed) redemptions; not part of the NAV.
    uint256 public reservedAssets;

    /// @notice Maximum NAV growth per year in bps used by the growth cap.
    uint256 public maxNavGrowthBpsPerYear = 2_000;
    /// @notice Maximum NAV fall per day in bps used by the mark-down floor (default 1_000: 10 %).
    uint256 public maxNavDropBpsPerDay = 1_000;
    /// @notice Anchor of the growth cap and the mark-down floor: the total assets they move from.
    uint256 public capBase;
    /// @notice Time of the anchor.
    uint256 public capBaseAt;
    /// @notice Time of the last `deployCapital`; the NAV fails closed until a report observed at
    /// or after it arrives.
    uint256 public lastDeployAt;

    struct Request {
        address controller;
        uint256 pendingShares;
        /// Fulfilled, unclaimed shares of this request.
        uint256 claimableShares;
        /// AID owed for them.
        uint256 claimableAssets;
    }

    /// @dev Request ids per controller in FIFO order, and the index of the first one that may
    /// still hold pending or claimable shares.
    mapping(address => uint256[]) private _requestsOf;
    mapping(address => uint256) private _claimHead;

    /// @notice Redemption requests by id (ids start at 1, in FIFO order).
    mapping(uint256 => Request) public requests;
    /// @notice Id the next request will get.
    uint256 public nextRequestId = 1;
    /// @notice Id of the oldest request that is not fully fulfilled (== nextRequestId when empty).
    uint256 public queueHead = 1;

    /// @notice Pending (escrowed, unfulfilled) shares per controller.
    mapping(address => uint256) public pendingShares;
    /// @notice Fulfilled, unclaimed shares per controller.
    mapping(address => uint256) public claimableShares;
    /// @notice AID owed for the claimable shares per controller.
    mapping(address => uint256) public claimableAssets;
    /// @notice ERC-7540 operators: controller => operator => approved.
    mapping(address => mapping(address => bool)) public isOperator;

    /// @notice Totals over all controllers (shares): requested = pending + claimable + claimed.
    uint256 public totalRequestedShares;
    uint256 public totalPendingShares;
    uint256 public totalClaimableShares;
    uint256 public totalClaimedShares;

    /// @notice ERC-7540.
    event RedeemRequest(
        address indexed controller, address indexed owner, uint256 indexed requestId, address sender, uint256 shares
    );
    /// @notice ERC-7540.
    event OperatorSet(address indexed controller, address indexed operator, bool approved);
    /// @notice `shares` of request `requestId` became claimable for `assets`.
    event RedeemFulfilled(uint256 indexed requestId, address indexed controller, uint256 shares, uint256 assets);
    /// @notice A fulfilment closed the cycle; the next one may run at `nextCycleEnd`.
    event CycleClosed(uint256 nextCycleEnd);
    /// @notice Idle AID was sent off-chain for deployment.
    event CapitalDeployed(address indexed to, uint256 amount);
    /// @notice A parameter changed.
    event ParametersSet(uint256 cycleLength, uint256 maxNavGrowthBpsPerYear);
    /// @notice The mark-down floor's rate changed.
    event MaxNavDropSet(uint256 maxNavDropBpsPerDay);
    /// @notice The guardian recognised the raw NAV: the vault's NAV went from `fromAssets` to
    /// `toAssets` at once.
    event ValuationAccepted(uint256 fromAssets, uint256 toAssets);

    /// @param aid The AID token (the vault's asset).
    /// @param oracle_ The valuation oracle bound to `keccak256("sAID")`.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE, MANAGER_ROLE and GUARDIAN_ROLE.
    constructor(IERC20 aid, ValuationOracle oracle_, address admin)
        ERC20("gaib staked AID", "sAID")
        ERC4626(aid)
    {
        if (admin == address(0) || address(oracle_) == address(0)) revert Errors.ZeroAddress();
        if (oracle_.asset() != keccak256("sAID")) revert Errors.OracleAssetMismatch(keccak256("sAID"), oracle_.asset());
        oracle = oracle_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MANAGER_ROLE, admin);
        _grantRole(GUARDIAN_ROLE, admin);
        cycleEnd = block.timestamp + cycleLength;
        capBaseAt = block.timestamp;
    }

    // ------------------------------------------------------------------ NAV

    /// @notice AID held by the vault that is not reserved for claims.
    /// @return The idle AID.
    function idleAssets() public view returns (uint256) {
        return IERC20(asset()).balanceOf(address(this)) - reservedAssets;
    }

    /// @notice Idle AID + the oracle's deployed value, without the growth cap. Reverts when the
    /// oracle report is missing or stale, or a deployment awaits valuation (fail closed: what
    /// deposits, mints and fulfilments price with).
    /// @return The raw total assets.
    function rawTotalAssets() public view returns (uint256) {
        uint256 observedAt = oracle.latestReport().observedAt;
        if (observedAt < lastDeployAt) revert Errors.AwaitingValuation(lastDeployAt, observedAt);
        return idleAssets() + oracle.deployedValue();
    }

    /// @notice The growth cap on total assets now: capBase grown linearly at
    /// maxNavGrowthBpsPerYear since capBaseAt (rounded down).
    /// @return The cap.
    function capAssets() public view returns (uint256) {
        uint256 dt = block.timestamp - capBaseAt;
        return capBase + capBase.mulDiv(maxNavGrowthBpsPerYear * dt, 10_000 * YEAR);
    }

    /// @notice The mark-down floor on total assets now: capBase lowered linearly at
    /// maxNavDropBpsPerDay since capBaseAt (the fall rounded down), at least 0.
    /// @return The floor.
    function floorAssets() public view returns (uint256) {
        uint256 drop = capBase.mulDiv(maxNavDropBpsPerDay * (block.timestamp - capBaseAt), 10_000 * DAY);
        return drop >= capBase ? 0 : capBase - drop;
    }

    /// @dev `value` clamped to [floorAssets(), capAssets()] (floor <= capBase <= cap).
    function _bounded(uint256 value) internal view returns (uint256) {
        return Math.min(Math.max(value, floorAssets()), capAssets());
    }

    /// @notice The last valuation: idle AID + the latest report's deployedValue, fresh or not
    /// (0 before the first report). Equals `rawTotalAssets()` while the NAV is valued; while it is
    /// not, capital deployed after the report counts as zero (a lower bound). Never reverts.
    /// @return The last valued total assets.
    function lastValuedAssets() public view returns (uint256) {
        return idleAssets() + oracle.latestReport().deployedValue;
    }

    /// @notice ERC-4626: lastValuedAssets clamped to [floorAssets, capAssets]. Never reverts
    /// (while the NAV is valued this is rawTotalAssets clamped; while it is not, the last
    /// valuation clamped, see `lastValuedAssets`, and every action that prices with it reverts).
    /// @return The total assets every deposit, mint, fulfilment and `convertTo*` prices with.
    function totalAssets() public view override returns (uint256) {
        return _bounded(lastValuedAssets());
    }

    /// @notice Whether the NAV can be read now: a fresh report and no capital deployed since its
    /// observation. Deposits, mints and fulfilments need it.
    /// @return True when valued.
    function isValued() external view returns (bool) {
        return _valued();
    }

    /// @notice NAV per whole sAID in AID (1e18 fixed point), at the capped NAV.
    /// @return (totalAssets + 1) * 1e24 / (totalSupply + 1e6), rounded down.
    function navPerShare() external view returns (uint256) {
        return (totalAssets() + 1).mulDiv(10 ** (18 + OFFSET), totalSupply() + VIRTUAL_SHARES);
    }

    /// @notice Re-anchors the growth cap and the mark-down floor at the current total assets
    /// (`capBase = totalAssets()`, `capBaseAt = now`); leaves totalAssets unchanged.
    /// Permissionless and non-reentrant (re-entered from a token hook mid-deposit it would anchor
    /// at a half-moved balance); deposit, mint and fulfil run the same re-anchoring. Reverts (like
    /// `rawTotalAssets`) while the NAV is not valued, so nobody can anchor at a stale or
    /// incomplete valuation.
    function pokeGrowthCap() external nonReentrant {
        _anchor();
    }

    /// @dev capBase = rawTotalAssets clamped to [floor, cap] now; capBaseAt = now.
    function _anchor() internal {
        capBase = _bounded(rawTotalAssets());
        capBaseAt = block.timestamp;
    }

    /// @notice Recognises the raw NAV at once, beyond the floor and the cap (a genuine large loss,
    /// or a revaluation, that the guardian has verified): re-anchors at `rawTotalAssets()`, so
    /// the vault's NAV is the raw NAV now instead of reaching it at `maxNavDropBpsPerDay` or
    /// `maxNavGrowthBpsPerYear` (and no depositor can share in a recognised gain still being
    /// released). GUARDIAN_ROLE only; reverts while the NAV is not valued.
    function acceptValuation() external onlyRole(GUARDIAN_ROLE) nonReentrant {
        uint256 before = totalAssets();
        capBase = rawTotalAssets();
        capBaseAt = block.timestamp;
        emit ValuationAccepted(before, capBase);
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return OFFSET;
    }

    // ------------------------------------------------------------------ deposits (sync)

    /// @notice ERC-4626; 0 when the NAV cannot be read (stale/missing report, unvalued deployment).
    /// @return The maximum deposit.
    function maxDeposit(address) public view override returns (uint256) {
        return _valued() ? type(uint256).max : 0;
    }

    /// @notice ERC-4626; 0 when the NAV cannot be read.
    /// @return The maximum mint.
    function maxMint(address) public view override returns (uint256) {
        return _valued() ? type(uint256).max : 0;
    }

    /// @dev Whether the NAV can be read now (fresh report, no unvalued deployment).
    function _valued() internal view returns (bool) {
        return oracle.isFresh() && oracle.latestReport().observedAt >= lastDeployAt;
    }

    /// @notice Shares for `assets` at the vault's bounded NAV, rounded down; reverts while the
    /// NAV is not valued.
    /// @param assets AID to deposit.
    /// @return shares = floor(assets * (supply + 1e6) / (A + 1)), A = rawTotalAssets clamped to
    /// [floorAssets, capAssets] (= totalAssets() while valued).
    function previewDeposit(uint256 assets) public view override returns (uint256) {
        return assets.mulDiv(totalSupply() + VIRTUAL_SHARES, _bounded(rawTotalAssets()) + 1, Math.Rounding.Floor);
    }

    /// @notice AID needed to mint `shares` at the vault's bounded NAV, rounded up; reverts while
    /// the NAV is not valued.
    /// @param shares sAID to mint.
    /// @return assets = ceil(shares * (A + 1) / (supply + 1e6)), A as in `previewDeposit`.
    function previewMint(uint256 shares) public view override returns (uint256) {
        return shares.mulDiv(_bounded(rawTotalAssets()) + 1, totalSupply() + VIRTUAL_SHARES, Math.Rounding.Ceil);
    }

    /// @notice ERC-4626 deposit at the vault's bounded NAV; reverts if it would mint zero shares
    /// or the oracle is stale.
    /// @param assets AID to deposit.
    /// @param receiver Receiver of the shares.
    /// @return Shares minted.
    function deposit(uint256 assets, address receiver) public override nonReentrant returns (uint256) {
        _anchor();
        return super.deposit(assets, receiver);
    }

    /// @notice ERC-4626 mint at the vault's bounded NAV; reverts on zero shares or a stale oracle.
    /// @param shares Shares to mint.
    /// @param receiver Receiver of the shares.
    /// @return Assets pulled.
    function mint(uint256 shares, address receiver) public override nonReentrant returns (uint256) {
        _anchor();
        return super.mint(shares, receiver);
    }

    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        if (shares == 0) revert Errors.ZeroShares();
        capBase += assets;
        super._deposit(caller, receiver, assets, shares);
    }

    // ------------------------------------------------------------------ redemptions (async)

    /// @notice ERC-7540: escrows `shares` of `owner` and queues a redemption for `controller`.
    /// Caller must be `owner`, an operator of `owner`, or hold an ERC-20 allowance from `owner`.
    /// @param shares Shares to redeem (> 0).
    /// @param controller Who controls (claims) the request.
    /// @param owner Whose shares are escrowed.
    /// @return requestId The request's id (FIFO position).
    function requestRedeem(uint256 shares, address controller, address owner)
        external
        nonReentrant
        returns (uint256 requestId)
    {
        if (shares == 0) revert Errors.ZeroAmount();
        if (controller == address(0)) revert Errors.ZeroAddress();
        if (msg.sender != owner && !isOperator[owner][msg.sender]) {
            _spendAllowance(owner, msg.sender, shares);
        }
        _transfer(owner, address(this), shares);
        requestId = nextRequestId++;
        requests[requestId] = Request({controller: controller, pendingShares: shares, claimableShares: 0, claimableAssets: 0});
        _requestsOf[controller].push(requestId);
        pendingShares[controller] += shares;
        totalPendingShares += shares;
        totalRequestedShares += shares;
        emit RedeemRequest(controller, owner, requestId, msg.sender, shares);
    }

    /// @notice ERC-7540: pending shares of request `requestId` (if it belongs to `controller`),
    /// or of all of `controller`'s requests when `requestId == 0`.
    /// @param requestId The request id, or 0 for the controller aggregate.
    /// @param controller The controller.
    /// @return Pending shares.
    function pendingRedeemRequest(uint256 requestId, address controller) external view returns (uint256) {
        if (requestId == 0) return pendingShares[controller];
        Request storage r = requests[requestId];
        return r.controller == controller ? r.pendingShares : 0;
    }

    /// @notice ERC-7540: claimable shares of request `requestId` (0 if it is not `controller`'s),
    /// or of all of `controller`'s requests when `requestId == 0`.
    /// @param requestId The request id, or 0 for the controller aggregate.
    /// @param controller The controller.
    /// @return Claimable shares.
    function claimableRedeemRequest(uint256 requestId, address controller) external view returns (uint256) {
        if (requestId == 0) return claimableShares[controller];
        Request storage r = requests[requestId];
        return r.controller == controller ? r.claimableShares : 0;
    }

    /// @notice AID owed for the claimable shares of request `requestId` (0 if not `controller`'s),
    /// or of all of `controller`'s requests when `requestId == 0`.
    /// @param requestId The request id, or 0.
    /// @param controller The controller.
    /// @return Claimable AID.
    function claimableRedeemAssets(uint256 requestId, address controller) external view returns (uint256) {
        if (requestId == 0) return claimableAssets[controller];
        Request storage r = requests[requestId];
        return r.controller == controller ? r.claimableAssets : 0;
    }

    /// @notice Settles the queue in FIFO order at the current (capped) NAV from idle AID. Callable
    /// by anyone once `block.timestamp >= cycleEnd`. Each request gets
    /// `assets = floor(shares * (totalAssets + 1) / (totalSupply + 1e6))` (recomputed after each
    /// fill); the escrowed shares are burned and the assets reserved for the controller. If idle
    /// AID cannot cover a request it is filled partially (as many shares as idle covers) and
    /// keeps its place. The cycle closes (next fulfilment after `cycleLength`) when the queue is
    /// empty or idle is exhausted; if `maxRequests` was hit first the cycle stays open and
    /// another call continues.
    /// @param maxRequests Maximum number of requests to process in this call.
    /// @return processed Number of requests touched.
    function fulfil(uint256 maxRequests) external nonReentrant returns (uint256 processed) {
        if (block.timestamp < cycleEnd) revert Errors.CycleNotEnded(cycleEnd, block.timestamp);
        _anchor(); // reverts while the NAV is not valued
        uint256 head = queueHead;
        uint256 end = nextRequestId;
        uint256 idle = idleAssets();
        bool idleExhausted;
        while (head < end && processed < maxRequests) {
            Request storage r = requests[head];
            uint256 shares = r.pendingShares;
            uint256 ta = totalAssets();
            uint256 supply = totalSupply() + VIRTUAL_SHARES;
            uint256 assets = shares.mulDiv(ta + 1, supply, Math.Rounding.Floor);
            if (assets > idle) {
                shares = idle.mulDiv(supply, ta + 1, Math.Rounding.Floor);
                assets = shares.mulDiv(ta + 1, supply, Math.Rounding.Floor);
                idleExhausted = true;
            }
            if (shares > 0) {
                _fill(head, r, shares, assets);
                idle -= assets;
                processed++;
            }
            if (idleExhausted) break;
            head++;
        }
        queueHead = head;
        if (head == end || idleExhausted) {
            cycleEnd = block.timestamp + cycleLength;
            emit CycleClosed(cycleEnd);
        }
    }

    function _fill(uint256 id, Request storage r, uint256 shares, uint256 assets) internal {
        address c = r.controller;
        r.pendingShares -= shares;
        r.claimableShares += shares;
        r.claimableAssets += assets;
        pendingShares[c] -= shares;
        totalPendingShares -= shares;
        claimableShares[c] += shares;
        totalClaimableShares += shares;
        claimableAssets[c] += assets;
        reservedAssets += assets;
        capBase -= assets;
        _burn(address(this), shares);
        emit RedeemFulfilled(id, c, shares, assets);
    }

    /// @notice ERC-7540 claim: burns nothing (shares were burned at fulfilment), pays AID for
    /// `shares` of `controller`'s claimable shares, taken from its requests oldest first: all
    /// of a request's claimable AID for all of its claimable shares, and for part of them
    /// `floor(part * requestClaimableAssets / requestClaimableShares)`. Caller must be
    /// `controller` or its operator.
    /// @param shares Claimable shares to claim.
    /// @param receiver Receiver of the AID.
    /// @param controller The controller.
    /// @return assets AID paid.
    function redeem(uint256 shares, address receiver, address controller)
        public
        override
        nonReentrant
        returns (uint256 assets)
    {
        _checkController(controller);
        uint256 cs = claimableShares[controller];
        if (shares > cs) revert Errors.ExceedsClaimable(shares, cs);
        assets = _consume(controller, shares, true);
        _claim(controller, receiver, assets, shares);
    }

    /// @notice ERC-7540 claim by assets, from the controller's requests oldest first: a request
    /// whose claimable AID is covered gives all its claimable shares; the last one, partly used,
    /// gives `ceil(part * requestClaimableShares / requestClaimableAssets)`. Caller must be
    /// `controller` or its operator.
    /// @param assets AID to claim.
    /// @param receiver Receiver of the AID.
    /// @param controller The controller.
    /// @return shares Claimable shares consumed.
    function withdraw(uint256 assets, address receiver, address controller)
        public
        override
        nonReentrant
        returns (uint256 shares)
    {
        _checkController(controller);
        uint256 ca = claimableAssets[controller];
        if (assets > ca) revert Errors.ExceedsClaimable(assets, ca);
        shares = _consume(controller, assets, false);
        _claim(controller, receiver, assets, shares);
    }

    /// @dev Takes `amount` claimable shares (byShares) or AID (!byShares) from `controller`'s
    /// requests, oldest first, and returns the other side: AID paid (rounded down) or shares
    /// consumed (rounded up). Requests fully used up and fully fulfilled are skipped for good.
    /// By AID, claimable shares worth 0 AID (dust fulfilled at 0) that follow are taken too, so
    /// `withdraw(maxWithdraw)` leaves `maxRedeem` at 0. The caller checked `amount` against the
    /// controller's aggregate.
    function _consume(address controller, uint256 amount, bool byShares) internal returns (uint256 other) {
        uint256[] storage ids = _requestsOf[controller];
        uint256 i = _claimHead[controller];
        uint256 n = ids.length;
        while (i < n) {
            Request storage r = requests[ids[i]];
            uint256 rs = r.claimableShares;
            uint256 ra = r.claimableAssets;
            uint256 have = byShares ? rs : ra;
            if (rs == 0 && ra == 0) {
                // nothing claimable here: FIFO fulfilment means nothing later is either,
                // unless this one is done for good
                if (r.pendingShares != 0) break;
                i++;
                continue;
            }
            // done, except that by AID a request whose claimable shares are worth 0 AID goes along
            if (amount == 0 && (byShares || ra != 0)) break;
            if (amount >= have) {
                amount -= have;
                other += byShares ? ra : rs;
                r.claimableShares = 0;
                r.claimableAssets = 0;
                if (r.pendingShares == 0) i++;
                else break;
            } else {
                uint256 took =
                    byShares ? amount.mulDiv(ra, rs, Math.Rounding.Floor) : amount.mulDiv(rs, ra, Math.Rounding.Ceil);
                if (byShares) {
                    r.claimableShares = rs - amount;
                    r.claimableAssets = ra - took;
                } else {
                    r.claimableShares = rs - took;
                    r.claimableAssets = ra - amount;
                }
                other += took;
                amount = 0;
            }
        }
        // amount > 0 here only if the aggregate and the requests disagree, which cannot happen
        _claimHead[controller] = i;
    }

    function _claim(address controller, address receiver, uint256 assets, uint256 shares) internal {
        claimableShares[controller] -= shares;
        claimableAssets[controller] -= assets;
        totalClaimableShares -= shares;
        totalClaimedShares += shares;
        reservedAssets -= assets;
        IERC20(asset()).safeTransfer(receiver, assets);
        emit Withdraw(msg.sender, receiver, controller, assets, shares);
    }

    function _checkController(address controller) internal view {
        if (msg.sender != controller && !isOperator[controller][msg.sender]) {
            revert Errors.NotOwnerOrOperator(msg.sender, controller);
        }
    }

    /// @notice ERC-7540: claimable shares of `controller`.
    /// @param controller The controller.
    /// @return Claimable shares.
    function maxRedeem(address controller) public view override returns (uint256) {
        return claimableShares[controller];
    }

    /// @notice ERC-7540: claimable AID of `controller`.
    /// @param controller The controller.
    /// @return Claimable AID.
    function maxWithdraw(address controller) public view override returns (uint256) {
        return claimableAssets[controller];
    }

    /// @notice Reverts: redemption is asynchronous (ERC-7540).
    function previewRedeem(uint256) public pure override returns (uint256) {
        revert Errors.AsyncRedeemNoPreview();
    }

    /// @notice Reverts: redemption is asynchronous (ERC-7540).
    function previewWithdraw(uint256) public pure override returns (uint256) {
        revert Errors.AsyncRedeemNoPreview();
    }

    /// @notice ERC-7540: approves or revokes `operator` to act for the caller.
    /// @param operator The operator.
    /// @param approved Approval.
    /// @return True.
    function setOperator(address operator, bool approved) external returns (bool) {
        isOperator[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
        return true;
    }

    /// @notice ERC-7575: the share token (this vault).
    /// @return This contract's address.
    function share() external view returns (address) {
        return address(this);
    }

    /// @notice ERC-165: ERC-165, AccessControl, ERC-7540 operator (0xe3bc4e65), ERC-7540 async
    /// redeem (0x620ee8e4) and ERC-7575 (0x2f0a18c5).
    /// @param interfaceId The interface id.
    /// @return Whether it is supported.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == 0xe3bc4e65 || interfaceId == 0x620ee8e4 || interfaceId == 0x2f0a18c5
            || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ manager

    /// @notice Sends idle (unreserved) AID to `to` for off-chain deployment. Until a report
    /// observed at or after this moment (which must include it in `deployedValue`) is accepted by
    /// the oracle, the NAV fails closed (deposits and fulfilments revert `AwaitingValuation`), so
    /// nobody trades at the dip. MANAGER_ROLE only.
    /// @param to Receiver (the deployment desk).
    /// @param amount AID amount (<= idle).
    function deployCapital(address to, uint256 amount) external onlyRole(MANAGER_ROLE) nonReentrant {
        uint256 idle = idleAssets();
        if (amount > idle) revert Errors.InsufficientIdle(amount, idle);
        lastDeployAt = block.timestamp;
        IERC20(asset()).safeTransfer(to, amount);
        emit CapitalDeployed(to, amount);
    }

    /// @notice Sets cycle length and growth cap. MANAGER_ROLE only.
    /// @param cycleLength_ Seconds between fulfilments (> 0; applies from the next cycle).
    /// @param maxNavGrowthBpsPerYear_ Growth cap in bps per year (<= 1_000_000).
    function setParameters(uint256 cycleLength_, uint256 maxNavGrowthBpsPerYear_) external onlyRole(MANAGER_ROLE) {
        if (cycleLength_ == 0) revert Errors.ZeroAmount();
        if (maxNavGrowthBpsPerYear_ > 1_000_000) revert Errors.BpsTooLarge(maxNavGrowthBpsPerYear_);
        if (_valued()) _anchor();
        cycleLength = cycleLength_;
        maxNavGrowthBpsPerYear = maxNavGrowthBpsPerYear_;
        emit ParametersSet(cycleLength_, maxNavGrowthBpsPerYear_);
    }

    /// @notice Sets the mark-down floor's rate. MANAGER_ROLE only; re-anchors first (when valued)
    /// so the new rate applies from now.
    /// @param maxNavDropBpsPerDay_ Maximum NAV fall in bps per day (<= 1_000_000).
    function setMaxNavDropBpsPerDay(uint256 maxNavDropBpsPerDay_) external onlyRole(MANAGER_ROLE) {
        if (maxNavDropBpsPerDay_ > 1_000_000) revert Errors.BpsTooLarge(maxNavDropBpsPerDay_);
        if (_valued()) _anchor();
        maxNavDropBpsPerDay = maxNavDropBpsPerDay_;
        emit MaxNavDropSet(maxNavDropBpsPerDay_);
    }

    /// @notice ERC-4626 decimals: AID's 18 + offset 6 = 24.
    /// @return 24.
    function decimals() public view override returns (uint8) {
        return super.decimals();
    }
}
