// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Errors} from "./Errors.sol";

/// @title RevenueRouter
/// @notice On-chain settlement of compute revenue. An operator (or its customers) pays revenue
/// in AID for a registered deal; `pay` splits the payment with `split` in the deal's order
/// (debt service to the lender, then revenue share to the investor, then the operator) and
/// transfers each part straight from the payer to its recipient.
/// @dev The split arithmetic is specified in `split` and in contracts-bindings/SPLIT.md; the
/// Rust engine reproduces it to the wei (differential test).
contract RevenueRouter is AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice May register deals.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @notice A deal's parties and its current settlement state.
    struct Deal {
        address admin; // sets debtDue / capRemaining
        address lender; // receives debt service
        address investor; // receives revenue share
        address operator; // receives the rest
        uint256 debtDue; // debt service still due this period (AID wei)
        uint256 capRemaining; // revenue share still payable before the cap (AID wei)
        uint16 shareBps; // revenue share in bps of each gross payment
    }

    /// @notice The settlement token.
    IERC20 public immutable aid;
    /// @notice Deals by id (ids start at 1).
    mapping(uint256 => Deal) public deals;
    /// @notice Id the next deal will get.
    uint256 public nextDealId = 1;

    /// @notice A deal was registered.
    event DealRegistered(
        uint256 indexed dealId, address admin, address lender, address investor, address operator, uint16 shareBps
    );
    /// @notice The deal admin set the debt service due and the remaining revenue-share cap.
    event DealTermsSet(uint256 indexed dealId, uint256 debtDue, uint256 capRemaining);
    /// @notice A payment was split and paid out.
    event Paid(
        uint256 indexed dealId,
        address indexed payer,
        uint256 amount,
        uint256 toLender,
        uint256 toInvestor,
        uint256 toOperator
    );

    /// @param aid_ The AID token.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE and REGISTRAR_ROLE.
    constructor(IERC20 aid_, address admin) {
        if (address(aid_) == address(0) || admin == address(0)) revert Errors.ZeroAddress();
        aid = aid_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, admin);
    }

    /// @notice The exact split of one payment. Pure; integer arithmetic on uint256, every
    /// division rounds down, evaluated in this order:
    ///   1. toLender   = min(amount, debtDue)
    ///   2. remaining  = amount - toLender
    ///   3. share      = (amount / 10_000) * shareBps + ((amount % 10_000) * shareBps) / 10_000
    ///                   (equals floor(amount * shareBps / 10_000) exactly, without overflow;
    ///                   the share is of the GROSS payment)
    ///   4. toInvestor = min(share, remaining, capRemaining)
    ///   5. toOperator = remaining - toInvestor
    /// So toLender + toInvestor + toOperator == amount always. Reverts `BpsTooLarge` if
    /// shareBps > 10_000.
    /// @param amount Gross payment (AID wei).
    /// @param debtDue Debt service due to the lender.
    /// @param shareBps Revenue share of the gross payment, in bps (<= 10_000).
    /// @param capRemaining Revenue share still payable before the investor's cap.
    /// @return toLender Paid to the lender.
    /// @return toInvestor Paid to the revenue-share investor.
    /// @return toOperator Paid to the operator.
    function split(uint256 amount, uint256 debtDue, uint16 shareBps, uint256 capRemaining)
        public
        pure
        returns (uint256 toLender, uint256 toInvestor, uint256 toOperator)
    {
        if (shareBps > 10_000) revert Errors.BpsTooLarge(shareBps);
        toLender = amount < debtDue ? amount : debtDue;
        uint256 remaining = amount - toLender;
        uint256 share = (amount / 10_000) * shareBps + ((amount % 10_000) * shareBps) / 10_000;
        toInvestor = share;
        if (remaining < toInvestor) toInvestor = remaining;
        if (capRemaining < toInvestor) toInvestor = capRemaining;
        toOperator = remaining - toInvestor;
    }

    /// @notice Registers a deal. REGISTRAR_ROLE only.
    /// @param admin Deal admin (sets debtDue and capRemaining).
    /// @param lender Debt-service recipient.
    /// @param investor Revenue-share recipient.
    /// @param operator Recipient of the rest.
    /// @param shareBps Revenue share in bps of gross payments (<= 10_000).
    /// @param debtDue Initial debt service due.
    /// @param capRemaining Initial revenue-share cap.
    /// @return dealId The new deal's id.
    function registerDeal(
        address admin,
        address lender,
        address investor,
        address operator,
        uint16 shareBps,
        uint256 debtDue,
        uint256 capRemaining
    ) external onlyRole(REGISTRAR_ROLE) returns (uint256 dealId) {
        if (admin == address(0) || lender == address(0) || investor == address(0) || operator == address(0)) {
            revert Errors.ZeroAddress();
        }
        if (shareBps > 10_000) revert Errors.BpsTooLarge(shareBps);
        dealId = nextDealId++;
        deals[dealId] = Deal({
            admin: admin,
            lender: lender,
            investor: investor,
            operator: operator,
            debtDue: debtDue,
            capRemaining: capRemaining,
            shareBps: shareBps
        });
        emit DealRegistered(dealId, admin, lender, investor, operator, shareBps);
        emit DealTermsSet(dealId, debtDue, capRemaining);
    }

    /// @notice Sets the debt service due this period and the remaining revenue-share cap.
    /// Deal admin only.
    /// @param dealId The deal.
    /// @param debtDue Debt service due.
    /// @param capRemaining Remaining revenue-share cap.
    function setTerms(uint256 dealId, uint256 debtDue, uint256 capRemaining) external {
        Deal storage d = _deal(dealId);
        if (msg.sender != d.admin) revert Errors.NotDealAdmin(dealId, msg.sender);
        d.debtDue = debtDue;
        d.capRemaining = capRemaining;
        emit DealTermsSet(dealId, debtDue, capRemaining);
    }

    /// @notice Pays `amount` AID of revenue for `dealId`: splits it with `split` at the deal's
    /// current terms, reduces debtDue by toLender and capRemaining by toInvestor, and transfers
    /// each part from the caller (who must have approved this router) to its recipient.
    /// @param dealId The deal.
    /// @param amount Gross payment (> 0).
    /// @return toLender Paid to the lender.
    /// @return toInvestor Paid to the investor.
    /// @return toOperator Paid to the operator.
    function pay(uint256 dealId, uint256 amount)
        external
        nonReentrant
        returns (uint256 toLender, uint256 toInvestor, uint256 toOperator)
    {
        if (amount == 0) revert Errors.ZeroAmount();
        Deal storage d = _deal(dealId);
        (toLender, toInvestor, toOperator) = split(amount, d.debtDue, d.shareBps, d.capRemaining);
        d.debtDue -= toLender;
        d.capRemaining -= toInvestor;
        if (toLender > 0) aid.safeTransferFrom(msg.sender, d.lender, toLender);
        if (toInvestor > 0) aid.safeTransferFrom(msg.sender, d.investor, toInvestor);
        if (toOperator > 0) aid.safeTransferFrom(msg.sender, d.operator, toOperator);
        emit Paid(dealId, msg.sender, amount, toLender, toInvestor, toOperator);
    }

    function _deal(uint256 dealId) internal view returns (Deal storage d) {
        d = deals[dealId];
        if (d.admin == address(0)) revert Errors.UnknownDeal(dealId);
    }
}
