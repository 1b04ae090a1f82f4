// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Errors} from "./Errors.sol";

/// @title TrancheToken
/// @notice The ERC-20 share of one tranche of a `TranchedPool` (18 decimals; 1 token wei per AID
/// wei of the tranche's original balance). The pool mints it at issue and pushes each period's
/// payments to the tranche (AID held here); holders pull their pro-rata share with `claim`.
/// @dev Checkpointed per-holder accounting: `accPerToken` grows by `amount * ACC / totalSupply`
/// per distribution (rounded down); a holder's claimable AID is `owed + balance * (accPerToken -
/// paidAcc) / ACC` (rounded down), and every transfer, mint and claim first settles both parties
/// at the current `accPerToken`, so a transfer never moves AID already earned and never changes
/// the total claimable. Sum of claimable <= AID distributed - claimed (the rounding dust, below
/// one wei per holder per distribution, stays in this contract).
/// Holders that cannot call `claim` (an AMM pair, the pool itself, a contract without a generic
/// call; review finding M4) have a **claim receiver**: a holder designates one itself
/// (`setClaimReceiver`), or, for a contract holder that did not, the pool's admin does
/// (`setClaimReceiverFor`); then anyone may `claimFor(holder)`, which pays the holder's claims to
/// that receiver only. Claims are never lost, only waiting for a receiver.
contract TrancheToken is ERC20, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Fixed-point scale of `accPerToken`.
    uint256 public constant ACC = 1e36;

    /// @notice The pool that mints this token and distributes to it.
    address public immutable pool;
    /// @notice The payout token (AID).
    IERC20 public immutable aid;
    /// @notice The tranche's index in its pool (0 = most senior).
    uint256 public immutable trancheIndex;

    /// @notice Cumulative AID wei distributed per token wei, scaled by ACC.
    uint256 public accPerToken;
    /// @notice Total AID wei distributed to this tranche.
    uint256 public totalDistributed;
    /// @notice Total AID wei claimed by holders.
    uint256 public totalClaimed;
    /// @notice AID wei settled to a holder and not yet claimed.
    mapping(address => uint256) public owed;
    /// @notice `accPerToken` at the holder's last checkpoint.
    mapping(address => uint256) public paidAcc;
    /// @notice Where `claimFor(holder)` pays `holder`'s claims (0: none designated).
    mapping(address => address) public claimReceiver;
    /// @notice Whether `holder` designated its claim receiver itself (the admin then cannot).
    mapping(address => bool) public claimReceiverSetByHolder;

    /// @notice The pool distributed `amount` AID wei to the tranche's holders.
    event Distributed(uint256 amount, uint256 accPerToken);
    /// @notice `holder` claimed `amount` AID wei to `receiver`.
    event Claimed(address indexed holder, address indexed receiver, uint256 amount);
    /// @notice `by` (the holder or the pool's admin) designated `receiver` for `holder`'s claims.
    event ClaimReceiverSet(address indexed holder, address indexed receiver, address indexed by);

    /// @param name_ ERC-20 name.
    /// @param symbol_ ERC-20 symbol.
    /// @param aid_ The payout token.
    /// @param index The tranche's index in the pool.
    constructor(string memory name_, string memory symbol_, IERC20 aid_, uint256 index) ERC20(name_, symbol_) {
        pool = msg.sender;
        aid = aid_;
        trancheIndex = index;
    }

    modifier onlyPool() {
        if (msg.sender != pool) revert Errors.OnlyPool(msg.sender);
        _;
    }

    /// @notice Mints `amount` token wei to `to`. Pool only (at issue, against AID).
    /// @param to Receiver.
    /// @param amount Token wei.
    function mint(address to, uint256 amount) external onlyPool {
        _mint(to, amount);
    }

    /// @notice Burns `amount` token wei of `from`. Pool only (refunds of a cancelled issue).
    /// @param from Holder.
    /// @param amount Token wei.
    function burn(address from, uint256 amount) external onlyPool {
        _burn(from, amount);
    }

    /// @notice Books `amount` AID wei, already transferred here by the pool, to the holders pro
    /// rata. Pool only; reverts `NoTokensOutstanding` with no supply.
    /// @param amount AID wei.
    function distribute(uint256 amount) external onlyPool {
        uint256 supply = totalSupply();
        if (supply == 0) revert Errors.NoTokensOutstanding();
        accPerToken += (amount * ACC) / supply;
        totalDistributed += amount;
        emit Distributed(amount, accPerToken);
    }

    /// @notice AID wei `holder` can claim now.
    /// @param holder The holder.
    /// @return AID wei.
    function claimable(address holder) public view returns (uint256) {
        return owed[holder] + (balanceOf(holder) * (accPerToken - paidAcc[holder])) / ACC;
    }

    /// @notice Pays the caller's claimable AID to `receiver`.
    /// @param receiver Receiver of the AID.
    /// @return amount AID wei paid.
    function claim(address receiver) external nonReentrant returns (uint256 amount) {
        if (receiver == address(0)) revert Errors.ZeroAddress();
        amount = _claim(msg.sender, receiver);
    }

    /// @notice The caller designates `receiver` (0: none) for its claims paid by `claimFor`.
    /// @param receiver Receiver of the caller's claims.
    function setClaimReceiver(address receiver) external {
        claimReceiverSetByHolder[msg.sender] = receiver != address(0);
        claimReceiver[msg.sender] = receiver;
        emit ClaimReceiverSet(msg.sender, receiver, msg.sender);
    }

    /// @notice The pool's admin designates `receiver` for the claims of `holder`, a contract
    /// (not an externally owned account) that did not designate one itself: an AMM pair, the
    /// pool, this token, a contract that cannot call `claim` or `setClaimReceiver`.
    /// @param holder The contract holder.
    /// @param receiver Receiver of its claims (0: none).
    function setClaimReceiverFor(address holder, address receiver) external {
        if (!IAccessControl(pool).hasRole(0x00, msg.sender)) revert Errors.NotPoolAdmin(msg.sender);
        if (holder.code.length == 0) revert Errors.NotAContract(holder);
        if (claimReceiverSetByHolder[holder]) revert Errors.ClaimReceiverSetByHolder(holder);
        claimReceiver[holder] = receiver;
        emit ClaimReceiverSet(holder, receiver, msg.sender);
    }

    /// @notice Pays `holder`'s claimable AID to its designated claim receiver. Anyone may call.
    /// @param holder The holder.
    /// @return amount AID wei paid.
    function claimFor(address holder) external nonReentrant returns (uint256 amount) {
        address receiver = claimReceiver[holder];
        if (receiver == address(0)) revert Errors.NoClaimReceiver(holder);
        amount = _claim(holder, receiver);
    }

    function _claim(address holder, address receiver) private returns (uint256 amount) {
        _checkpoint(holder);
        amount = owed[holder];
        owed[holder] = 0;
        totalClaimed += amount;
        if (amount > 0) aid.safeTransfer(receiver, amount);
        emit Claimed(holder, receiver, amount);
    }

    function _checkpoint(address holder) private {
        if (holder == address(0)) return;
        owed[holder] = claimable(holder);
        paidAcc[holder] = accPerToken;
    }

    /// @dev Settles both parties at the current accumulator before any balance changes.
    function _update(address from, address to, uint256 value) internal override {
        _checkpoint(from);
        if (to != from) _checkpoint(to);
        super._update(from, to, value);
    }
}
