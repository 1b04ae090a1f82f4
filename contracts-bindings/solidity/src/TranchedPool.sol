// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Errors} from "./Errors.sol";
import {PoolWaterfall} from "./PoolWaterfall.sol";
import {TrancheToken} from "./TrancheToken.sol";

/// @title TranchedPool
/// @notice One pool of docs/MODEL.md §6 on chain: one `TrancheToken` (ERC-20) per tranche, senior
/// first, the last the equity, minted 1:1 against AID at issue. Operators' revenue arrives as AID
/// (typically as the lender or investor of `RevenueRouter` deals, or by plain transfer); once a
/// month the servicer closes a period, declaring which part of the AID collected since the last
/// period is principal proceeds, the pool's performing balance and the base rate, and the pool
/// runs `PoolWaterfall.step` on it: senior fees to `feeRecipient`, each tranche's interest and
/// principal to its token, where holders claim them (pull).
/// @dev All amounts are AID wei (1 USD = 1e18 wei), rates ppb per year, fees bps per year. The
/// arithmetic and its rounding are `PoolWaterfall`'s; every wei collected in a period is paid out
/// in that period (fees + tranche receipts = collections).
contract TranchedPool is AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice May close periods.
    bytes32 public constant SERVICER_ROLE = keccak256("SERVICER_ROLE");
    /// @notice Upper bound of balances, collections and the performing balance, wei.
    uint256 public constant MAX_VALUE = type(uint128).max;
    /// @notice Upper bound of coupons, spreads and the base rate, ppb (100 %/year).
    uint256 public constant MAX_RATE_PPB = 1e9;
    /// @notice Most tranches a pool may have.
    uint256 public constant MAX_TRANCHES = 8;
    /// @notice Delay between proposing a new fee recipient and its taking effect, seconds.
    uint256 public constant FEE_RECIPIENT_DELAY = 2 days;

    /// @notice One tranche's terms at deployment.
    struct TrancheSpec {
        uint256 balance; // original balance, AID wei (equity: its notional)
        uint256 couponPpb; // fixed annual coupon, ppb (0 for floating and for the equity)
        bool floating; // pays baseRate + spreadPpb
        uint256 spreadPpb; // floating spread, ppb per year
    }

    /// @notice The pool's timetable, fixed at deployment.
    struct Schedule {
        uint256 issueWindow; // seconds from deployment to the issue deadline (1..=365 days)
        uint256 periodSeconds; // least seconds between the issue close and a period, and between periods (1..=366 days)
        uint256 legalFinalPeriod; // the period number that is the legal final (1..=1200)
    }

    /// @notice Longest issue window, seconds.
    uint256 public constant MAX_ISSUE_WINDOW = 365 days;
    /// @notice Longest period, seconds.
    uint256 public constant MAX_PERIOD_SECONDS = 366 days;
    /// @notice Latest legal final period.
    uint256 public constant MAX_LEGAL_FINAL_PERIOD = 1200;

    /// @notice The settlement token.
    IERC20 public immutable aid;
    /// @notice Receiver of the senior fees.
    address public feeRecipient;
    /// @notice Each tranche's token, senior first.
    TrancheToken[] public tranches;
    /// @notice Each tranche's original balance, wei.
    uint256[] public originalBalances;
    /// @notice AID wei raised by subscriptions and not yet sent to the funding recipient.
    uint256 public raised;
    /// @notice Whether `closeIssue` ran (subscriptions closed, periods open).
    bool public issueClosed;
    /// @notice Whether the legal final period was closed.
    bool public matured;
    /// @notice Periods closed so far.
    uint256 public period;
    /// @notice After it (unix seconds) no subscriptions, and anyone may cancel an issue not closed.
    uint256 public immutable issueDeadline;
    /// @notice Least seconds between the issue close and the first period, and between periods.
    uint256 public immutable periodSeconds;
    /// @notice The period whose close is the legal final (unpaid debt written down, pool matured).
    uint256 public immutable legalFinalPeriod;
    /// @notice Whether the issue was cancelled (`cancelIssue`; subscribers refunded 1:1).
    bool public issueCancelled;
    /// @notice When the issue or the last period closed, unix seconds.
    uint256 public lastClose;
    /// @notice AID wei sent to the funding recipient at `closeIssue`: the capital lent out.
    uint256 public funded;
    /// @notice Principal proceeds declared by all periods closed so far, wei.
    uint256 public principalReturned;
    /// @notice A proposed fee recipient (0: none) and when it may take effect, unix seconds.
    address public pendingFeeRecipient;
    /// @notice When `pendingFeeRecipient` may take effect, unix seconds.
    uint256 public pendingFeeRecipientEta;
    /// @notice After maturity: what each tranche may still receive from residual collections,
    /// wei (its legal-final write-down less residual paid; the equity takes whatever is left).
    uint256[] public residualDue;

    PoolWaterfall.Terms internal _terms;
    PoolWaterfall.State internal _state;

    /// @notice `investor` bought `amount` wei of tranche `tranche` for `amount` AID wei.
    event Subscribed(uint256 indexed tranche, address indexed investor, address indexed receiver, uint256 amount);
    /// @notice The issue closed; `amount` AID wei raised went to `fundingRecipient`.
    event IssueClosed(address indexed fundingRecipient, uint256 amount);
    /// @notice A period was run through the waterfall: its collections (wei, base rate ppb), the
    /// fees paid (wei) and the month's OC and senior-interest-default flags.
    event PeriodClosed(
        uint256 indexed period,
        PoolWaterfall.Collections collections,
        uint256 feesPaid,
        bool ocBreached,
        bool seniorInterestDefault
    );
    /// @notice What tranche `tranche` got in `period`, wei; `balanceEnd` its balance after it.
    event TranchePaid(
        uint256 indexed period,
        uint256 indexed tranche,
        uint256 interest,
        uint256 principal,
        uint256 shortfall,
        uint256 writedown,
        uint256 balanceEnd
    );
    /// @notice The issue was cancelled by `by`; `raised` AID wei are refundable 1:1.
    event IssueCancelled(address indexed by, uint256 raised);
    /// @notice `holder` burned `amount` wei of tranche `tranche` for as much AID to `receiver`.
    event Refunded(uint256 indexed tranche, address indexed holder, address indexed receiver, uint256 amount);
    /// @notice After maturity, `amount` AID wei collected went to tranche `tranche` (residual).
    event ResidualPaid(uint256 indexed tranche, uint256 amount, uint256 residualDueAfter);
    /// @notice At the legal final, `amount` wei of senior fee arrears the pot could not pay were
    /// written off (finding L6: nothing after maturity pays fees).
    event FeeArrearsWrittenOff(uint256 amount);
    /// @notice The fee recipient changed (after the timelock).
    event FeeRecipientSet(address feeRecipient);
    /// @notice The admin proposed `feeRecipient`, effective from `eta` (0 address: cancelled).
    event FeeRecipientProposed(address feeRecipient, uint256 eta);

    /// @param aid_ The AID token.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (terms of access, fee recipient, issue close).
    /// @param servicer Holder of SERVICER_ROLE (period closes); not `admin` (finding M2: no
    /// account may hold both roles, `RolesNotSplit`).
    /// @param feeRecipient_ Receiver of the senior fees.
    /// @param seniorFeeBps Annual senior fee on the performing balance, bps (<= 10_000).
    /// @param ocTriggerPpb OC trigger x 1e9 (1.2 = 1_200_000_000), 0 disables; <= 100e9.
    /// @param specs Tranches in seniority order, the last the equity (1..=8 of them).
    /// @param names ERC-20 name of each tranche's token.
    /// @param symbols ERC-20 symbol of each tranche's token.
    /// @param schedule Issue window, period length and legal final period.
    constructor(
        IERC20 aid_,
        address admin,
        address servicer,
        address feeRecipient_,
        uint256 seniorFeeBps,
        uint256 ocTriggerPpb,
        TrancheSpec[] memory specs,
        string[] memory names,
        string[] memory symbols,
        Schedule memory schedule
    ) {
        if (address(aid_) == address(0) || admin == address(0) || servicer == address(0) || feeRecipient_ == address(0))
        {
            revert Errors.ZeroAddress();
        }
        if (seniorFeeBps > 10_000) revert Errors.BpsTooLarge(seniorFeeBps);
        if (ocTriggerPpb > 100 * MAX_RATE_PPB) revert Errors.InvalidOcTrigger(ocTriggerPpb);
        uint256 n = specs.length;
        if (n == 0 || n > MAX_TRANCHES || names.length != n || symbols.length != n) {
            revert Errors.InvalidTrancheCount(n);
        }
        _checkSchedule(schedule);
        issueDeadline = block.timestamp + schedule.issueWindow;
        periodSeconds = schedule.periodSeconds;
        legalFinalPeriod = schedule.legalFinalPeriod;
        aid = aid_;
        feeRecipient = feeRecipient_;
        _terms.seniorFeeBps = seniorFeeBps;
        _terms.ocTriggerPpb = ocTriggerPpb;
        for (uint256 j = 0; j < n; j++) {
            _addTranche(j, j == n - 1, specs[j]);
            tranches.push(new TrancheToken(names[j], symbols[j], aid_, j));
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SERVICER_ROLE, servicer);
    }

    /// @dev No account holds both the admin and the servicer role (finding M2).
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (
            (role == SERVICER_ROLE && hasRole(DEFAULT_ADMIN_ROLE, account))
                || (role == DEFAULT_ADMIN_ROLE && hasRole(SERVICER_ROLE, account))
        ) revert Errors.RolesNotSplit(account);
        return super._grantRole(role, account);
    }

    function _checkSchedule(Schedule memory s) private pure {
        if (s.issueWindow == 0 || s.issueWindow > MAX_ISSUE_WINDOW) {
            revert Errors.InvalidSchedule("issueWindow", s.issueWindow);
        }
        if (s.periodSeconds == 0 || s.periodSeconds > MAX_PERIOD_SECONDS) {
            revert Errors.InvalidSchedule("periodSeconds", s.periodSeconds);
        }
        if (s.legalFinalPeriod == 0 || s.legalFinalPeriod > MAX_LEGAL_FINAL_PERIOD) {
            revert Errors.InvalidSchedule("legalFinalPeriod", s.legalFinalPeriod);
        }
    }

    /// @dev Checks and records tranche `j`'s terms (`last`: the equity).
    function _addTranche(uint256 j, bool last, TrancheSpec memory t) private {
        if (t.balance == 0 || t.balance > MAX_VALUE) revert Errors.InvalidTranche(j, "balance", t.balance);
        if (t.couponPpb > MAX_RATE_PPB) revert Errors.InvalidTranche(j, "couponPpb", t.couponPpb);
        if (t.spreadPpb > MAX_RATE_PPB) revert Errors.InvalidTranche(j, "spreadPpb", t.spreadPpb);
        if (last) {
            if (t.couponPpb != 0) revert Errors.InvalidTranche(j, "couponPpb", t.couponPpb);
            if (t.floating) revert Errors.InvalidTranche(j, "floating", 1);
            if (t.spreadPpb != 0) revert Errors.InvalidTranche(j, "spreadPpb", t.spreadPpb);
        } else if (!t.floating && t.spreadPpb != 0) {
            revert Errors.InvalidTranche(j, "spreadPpb", t.spreadPpb);
        } else if (t.floating && t.couponPpb != 0) {
            revert Errors.InvalidTranche(j, "couponPpb", t.couponPpb);
        }
        originalBalances.push(t.balance);
        _terms.couponPpb.push(t.couponPpb);
        _terms.floating.push(t.floating);
        _terms.spreadPpb.push(t.spreadPpb);
        _state.balances.push(t.balance);
    }

    // ------------------------------------------------------------------ issue

    /// @notice Buys `amount` wei of tranche `tranche` at par: pulls `amount` AID wei from the
    /// caller and mints as many tranche tokens to `receiver`. Only before `closeIssue`, before
    /// `cancelIssue` and up to `issueDeadline`, and at most the tranche's original balance in all.
    /// @param tranche Tranche index (0 = most senior).
    /// @param amount AID wei (> 0).
    /// @param receiver Receiver of the tranche tokens.
    function subscribe(uint256 tranche, uint256 amount, address receiver) external nonReentrant {
        if (issueClosed) revert Errors.IssueClosed();
        if (issueCancelled) revert Errors.IssueCancelled();
        if (block.timestamp > issueDeadline) revert Errors.IssueDeadlinePassed(issueDeadline);
        if (tranche >= tranches.length) revert Errors.UnknownTranche(tranche);
        if (amount == 0) revert Errors.ZeroAmount();
        if (receiver == address(0)) revert Errors.ZeroAddress();
        TrancheToken tok = tranches[tranche];
        uint256 remaining = originalBalances[tranche] - tok.totalSupply();
        if (amount > remaining) revert Errors.OverSubscribed(tranche, amount, remaining);
        aid.safeTransferFrom(msg.sender, address(this), amount);
        raised += amount;
        tok.mint(receiver, amount);
        emit Subscribed(tranche, msg.sender, receiver, amount);
    }

    /// @notice Closes the issue once every tranche is fully subscribed and sends the AID raised
    /// to `fundingRecipient` (who funds the pool's deals). Admin only, not after `cancelIssue`
    /// (a fully subscribed issue may still close after its deadline unless cancelled). The first
    /// period may close `periodSeconds` later.
    /// @param fundingRecipient Receiver of the AID raised.
    function closeIssue(address fundingRecipient) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        if (issueClosed) revert Errors.IssueClosed();
        if (issueCancelled) revert Errors.IssueCancelled();
        if (fundingRecipient == address(0)) revert Errors.ZeroAddress();
        for (uint256 j = 0; j < tranches.length; j++) {
            uint256 supply = tranches[j].totalSupply();
            if (supply != originalBalances[j]) revert Errors.NotFullySubscribed(j, supply, originalBalances[j]);
        }
        issueClosed = true;
        lastClose = block.timestamp;
        uint256 amount = raised;
        raised = 0;
        funded = amount;
        aid.safeTransfer(fundingRecipient, amount);
        emit IssueClosed(fundingRecipient, amount);
    }

    /// @notice Cancels an issue that did not close: the admin at any time, anyone after
    /// `issueDeadline`. Subscriptions stop and every holder may `refund` its tranche tokens for
    /// AID 1:1 (the AID raised stays in the pool for them).
    function cancelIssue() external {
        if (issueClosed) revert Errors.IssueClosed();
        if (issueCancelled) revert Errors.IssueCancelled();
        if (block.timestamp <= issueDeadline && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert Errors.IssueDeadlineNotPassed(issueDeadline);
        }
        issueCancelled = true;
        emit IssueCancelled(msg.sender, raised);
    }

    /// @notice After `cancelIssue`: burns `amount` wei of the caller's tranche `tranche` tokens
    /// and pays `receiver` as many AID wei (the subscription price).
    /// @param tranche Tranche index.
    /// @param amount Token wei (> 0, at most the caller's balance).
    /// @param receiver Receiver of the AID.
    function refund(uint256 tranche, uint256 amount, address receiver) external nonReentrant {
        if (!issueCancelled) revert Errors.IssueNotCancelled();
        if (tranche >= tranches.length) revert Errors.UnknownTranche(tranche);
        if (amount == 0) revert Errors.ZeroAmount();
        if (receiver == address(0)) revert Errors.ZeroAddress();
        tranches[tranche].burn(msg.sender, amount);
        raised -= amount;
        aid.safeTransfer(receiver, amount);
        emit Refunded(tranche, msg.sender, receiver, amount);
    }

    // ------------------------------------------------------------------ periods

    /// @notice AID wei collected since the last period (what the next period distributes).
    /// @return AID wei.
    function collected() public view returns (uint256) {
        return aid.balanceOf(address(this)) - raised;
    }

    /// @notice Closes a period: the AID collected since the last one, `principalProceeds` of it
    /// as principal proceeds and the rest as interest proceeds, goes through the waterfall;
    /// fees are sent to `feeRecipient`, each tranche's receipts to its token for its holders.
    /// Servicer only, after `closeIssue`, before maturity, at least `periodSeconds` after the
    /// issue close or the last period. Period `legalFinalPeriod` is the legal final: unpaid debt
    /// is written down, senior fee arrears the pot could not pay are written off (no fee is paid
    /// after maturity; `FeeArrearsWrittenOff`) and the pool matures.
    /// @param principalProceeds Principal part of the collections, wei (<= collected()).
    /// @param performingBalance Performing balance of the pool's deals at the period start, wei;
    /// at most `maxPerformingBalance()` (finding M2).
    /// @param baseRatePpb Floating base rate, annual ppb (<= 1e9).
    /// @return f The period's flows, wei.
    function closePeriod(uint256 principalProceeds, uint256 performingBalance, uint256 baseRatePpb)
        external
        onlyRole(SERVICER_ROLE)
        nonReentrant
        returns (PoolWaterfall.Flows memory f)
    {
        if (!issueClosed) revert Errors.IssueNotClosed();
        if (matured) revert Errors.PoolMatured();
        if (block.timestamp < lastClose + periodSeconds) revert Errors.PeriodTooEarly(lastClose + periodSeconds);
        lastClose = block.timestamp;
        uint256 p = period + 1;
        bool legalFinal = p == legalFinalPeriod;
        uint256 cash = collected();
        if (cash > MAX_VALUE) revert Errors.PoolValueTooLarge("collected", cash, MAX_VALUE);
        if (principalProceeds > cash) revert Errors.ProceedsExceedCash(principalProceeds, cash);
        uint256 maxPerf = maxPerformingBalance();
        if (performingBalance > maxPerf) revert Errors.PerformingBalanceTooLarge(performingBalance, maxPerf);
        if (baseRatePpb > MAX_RATE_PPB) revert Errors.PoolValueTooLarge("baseRatePpb", baseRatePpb, MAX_RATE_PPB);
        PoolWaterfall.Collections memory c = PoolWaterfall.Collections({
            interestProceeds: cash - principalProceeds,
            principalProceeds: principalProceeds,
            performingBalance: performingBalance,
            baseRatePpb: baseRatePpb,
            legalFinal: legalFinal
        });
        PoolWaterfall.State memory s = _state;
        f = PoolWaterfall.step(_terms, s, c);
        _state = s;
        period = p;
        principalReturned += principalProceeds;
        if (legalFinal) {
            matured = true;
            residualDue = f.writedown;
            uint256 unpaidFees = _state.feeArrears;
            if (unpaidFees > 0) {
                _state.feeArrears = 0;
                emit FeeArrearsWrittenOff(unpaidFees);
            }
        }
        emit PeriodClosed(p, c, f.feesPaid, f.ocBreached, f.seniorInterestDefault);
        if (f.feesPaid > 0) aid.safeTransfer(feeRecipient, f.feesPaid);
        for (uint256 j = 0; j < s.balances.length; j++) {
            uint256 paid = f.interest[j] + f.principal[j];
            if (paid > 0) {
                TrancheToken tok = tranches[j];
                aid.safeTransfer(address(tok), paid);
                tok.distribute(paid);
            }
            emit TranchePaid(p, j, f.interest[j], f.principal[j], f.shortfall[j], f.writedown[j], s.balances[j]);
        }
    }

    /// @notice After maturity, pays the AID collected since (recoveries, late revenue) to the
    /// tranches: in seniority order each up to what its legal-final write-down still leaves due
    /// (`residualDue`), then all the rest to the equity. No fees. Anyone may call it; holders
    /// claim from the tranche tokens as for periods.
    /// @return paid AID wei paid to each tranche.
    function distributeResidual() external nonReentrant returns (uint256[] memory paid) {
        if (!matured) revert Errors.PoolNotMatured();
        uint256 cash = collected();
        uint256 n = tranches.length;
        paid = new uint256[](n);
        for (uint256 j = 0; j < n && cash > 0; j++) {
            uint256 x = cash;
            if (j + 1 < n) {
                uint256 due = residualDue[j];
                if (x > due) x = due;
                residualDue[j] = due - x;
            }
            if (x == 0) continue;
            cash -= x;
            paid[j] = x;
            TrancheToken tok = tranches[j];
            aid.safeTransfer(address(tok), x);
            tok.distribute(x);
            emit ResidualPaid(j, x, residualDue[j]);
        }
    }

    /// @notice The pure waterfall (`PoolWaterfall.step`) on any terms, state and collections:
    /// what the engine's `pool_wei::step` must reproduce to the wei.
    /// @param t Terms.
    /// @param s State before the month.
    /// @param c The month's collections.
    /// @return next State after the month.
    /// @return f The month's flows.
    function waterfallStep(
        PoolWaterfall.Terms memory t,
        PoolWaterfall.State memory s,
        PoolWaterfall.Collections memory c
    ) external pure returns (PoolWaterfall.State memory next, PoolWaterfall.Flows memory f) {
        uint256 n = s.balances.length;
        if (n == 0 || t.couponPpb.length != n || t.floating.length != n || t.spreadPpb.length != n) {
            revert Errors.InvalidTrancheCount(n);
        }
        f = PoolWaterfall.step(t, s, c);
        next = s;
    }

    // ------------------------------------------------------------------ views

    /// @notice Number of tranches (equity included).
    /// @return Count.
    function trancheCount() external view returns (uint256) {
        return tranches.length;
    }

    /// @notice The pool's terms (fee bps, OC trigger ppb, per-tranche rates ppb).
    /// @return Terms.
    function terms() external view returns (PoolWaterfall.Terms memory) {
        return _terms;
    }

    /// @notice Balances (wei, per tranche), senior interest arrears and fee arrears (wei).
    /// @return State.
    function state() external view returns (PoolWaterfall.State memory) {
        return _state;
    }

    /// @notice Outstanding balance of tranche `j`, wei (equity: its notional).
    /// @param j Tranche index.
    /// @return Wei.
    function trancheBalance(uint256 j) external view returns (uint256) {
        if (j >= tranches.length) revert Errors.UnknownTranche(j);
        return _state.balances[j];
    }

    /// @notice The largest performing balance a period may declare, wei: the capital lent out at
    /// the issue close (`funded`) less the principal proceeds declared since
    /// (`principalReturned`), 0 below. The pool's deals cannot have more principal performing
    /// than was lent and not yet returned (a default or a write-off only lowers it; recoveries
    /// are principal proceeds of defaulted principal, so subtracting them keeps the bound
    /// above the truth). It bounds the fees (performing x fee rate) and the OC test's numerator.
    /// Capped at MAX_VALUE (the waterfall's range).
    /// @return Wei.
    function maxPerformingBalance() public view returns (uint256) {
        uint256 m = principalReturned >= funded ? 0 : funded - principalReturned;
        return m > MAX_VALUE ? MAX_VALUE : m;
    }

    /// @notice Proposes a new receiver of the senior fees, effective `FEE_RECIPIENT_DELAY`
    /// seconds later through `acceptFeeRecipient` (finding M2: holders can see it coming).
    /// Admin only; the zero address cancels a pending proposal.
    /// @param r New receiver (0: cancel).
    function proposeFeeRecipient(address r) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 eta = r == address(0) ? 0 : block.timestamp + FEE_RECIPIENT_DELAY;
        pendingFeeRecipient = r;
        pendingFeeRecipientEta = eta;
        emit FeeRecipientProposed(r, eta);
    }

    /// @notice Makes the pending fee recipient the fee recipient once its delay has passed.
    /// Admin only.
    function acceptFeeRecipient() external onlyRole(DEFAULT_ADMIN_ROLE) {
        address r = pendingFeeRecipient;
        if (r == address(0)) revert Errors.NoPendingChange();
        if (block.timestamp < pendingFeeRecipientEta) revert Errors.TimelockNotElapsed(pendingFeeRecipientEta);
        feeRecipient = r;
        pendingFeeRecipient = address(0);
        pendingFeeRecipientEta = 0;
        emit FeeRecipientSet(r);
    }
}
