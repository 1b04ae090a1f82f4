// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "../utils/Test.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";
import {AID} from "../../src/AID.sol";
import {SAID} from "../../src/SAID.sol";
import {ValuationOracle, ValuationReport} from "../../src/ValuationOracle.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @dev a * b < c * d in full 512-bit precision.
function lt512(uint256 a, uint256 b, uint256 c, uint256 d) pure returns (bool) {
    (uint256 h1, uint256 l1) = Math.mul512(a, b);
    (uint256 h2, uint256 l2) = Math.mul512(c, d);
    return h1 < h2 || (h1 == h2 && l1 < l2);
}

/// @notice Random deposits, mints, redemption requests, fulfilments, claims, oracle marks,
/// deployments and donations against sAID, with ghost accounting.
contract VaultHandler is CommonBase {
    AID internal aid;
    SAID internal vault;
    ValuationOracle internal oracle;
    uint256[] internal keys;
    address internal manager;
    address internal desk = address(0xDE5C);
    address[3] public actors = [address(0xA1), address(0xA2), address(0xA3)];

    uint256 public priceDrops; // share price fell on a deposit, mint or fulfilment
    uint256 public roundTripProfits;
    mapping(uint256 => uint256) public requested; // request id => shares requested
    mapping(uint256 => uint256) public filled; // request id => shares fulfilled (ghost)
    mapping(address => uint256) public reservedFor; // controller => AID made claimable (ghost)
    mapping(address => uint256) public paidTo; // controller => AID claimed (ghost)
    uint256 public deployed;
    uint256 public fulfilCalls;

    constructor(AID aid_, SAID vault_, ValuationOracle oracle_, uint256[] memory keys_, address manager_) {
        aid = aid_;
        vault = vault_;
        oracle = oracle_;
        keys = keys_;
        manager = manager_;
        for (uint256 i = 0; i < 3; i++) {
            vm.prank(actors[i]);
            aid.approve(address(vault), type(uint256).max);
        }
        deployed = oracle.latestReport().deployedValue;
    }

    // ------------------------------------------------------------ helpers

    function _push(uint256 deployedValue) internal {
        uint64 round = oracle.latestRound() + 1;
        ValuationReport memory r = ValuationReport({
            asset: keccak256("sAID"),
            navPerShare: 1e18,
            deployedValue: deployedValue,
            haircutBps: 0,
            ltvBps: 8_000,
            observedAt: uint64(block.timestamp),
            validUntil: uint64(block.timestamp + 1 days),
            runId: bytes32(uint256(round)),
            round: round
        });
        bytes32 d = oracle.digest(r);
        // guardian-approved: the handler moves the book freely (several marks per timestamp)
        oracle.approveReport(d, true);
        bytes[] memory sigs = new bytes[](keys.length);
        for (uint256 i = 0; i < keys.length; i++) {
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[i], d);
            sigs[i] = abi.encodePacked(rr, s, v);
        }
        oracle.submit(r, sigs);
        deployed = deployedValue;
    }

    function _price() internal view returns (uint256 ta, uint256 supply) {
        ta = vault.totalAssets() + 1;
        supply = vault.totalSupply() + 1e6;
    }

    function _checkNotDown(uint256 ta0, uint256 s0) internal {
        (uint256 ta1, uint256 s1) = _price();
        if (lt512(ta1, s0, ta0, s1)) priceDrops++;
    }

    // ------------------------------------------------------------ actions

    function deposit(uint256 who, uint256 amount) external {
        address a = actors[who % 3];
        amount = 1 + amount % 1e27;
        if (vault.previewDeposit(amount) == 0) return;
        aid.mint(a, amount);
        (uint256 ta0, uint256 s0) = _price();
        vm.prank(a);
        vault.deposit(amount, a);
        _checkNotDown(ta0, s0);
    }

    function mint(uint256 who, uint256 shares) external {
        address a = actors[who % 3];
        shares = 1 + shares % 1e33;
        uint256 assets = vault.previewMint(shares);
        if (assets > 1e30) return;
        aid.mint(a, assets);
        (uint256 ta0, uint256 s0) = _price();
        vm.prank(a);
        vault.mint(shares, a);
        _checkNotDown(ta0, s0);
    }

    function requestRedeem(uint256 who, uint256 controller, uint256 frac) external {
        address a = actors[who % 3];
        uint256 bal = vault.balanceOf(a);
        if (bal == 0) return;
        uint256 shares = 1 + (bal - 1) * (frac % 101) / 100;
        vm.prank(a);
        uint256 id = vault.requestRedeem(shares, actors[controller % 3], a);
        requested[id] = shares;
    }

    function fulfil(uint256 maxRequests) external {
        if (block.timestamp < vault.cycleEnd()) vm.warp(vault.cycleEnd());
        _push(deployed);
        uint256 first = vault.queueHead();
        uint256 end = vault.nextRequestId();
        uint256[] memory before = new uint256[](end - first);
        uint256[3] memory claimable0;
        for (uint256 i = 0; i < 3; i++) claimable0[i] = vault.claimableAssets(actors[i]);
        for (uint256 id = first; id < end; id++) {
            (, before[id - first],,) = vault.requests(id);
        }
        (uint256 ta0, uint256 s0) = _price();
        vault.fulfil(maxRequests % 8);
        fulfilCalls++;
        _checkNotDown(ta0, s0);
        for (uint256 id = first; id < end; id++) {
            (, uint256 p,,) = vault.requests(id);
            filled[id] += before[id - first] - p;
        }
        for (uint256 i = 0; i < 3; i++) reservedFor[actors[i]] += vault.claimableAssets(actors[i]) - claimable0[i];
    }

    function claimRedeem(uint256 who, uint256 frac) external {
        address c = actors[who % 3];
        uint256 cs = vault.claimableShares(c);
        uint256 shares = cs * (frac % 101) / 100;
        vm.prank(c);
        paidTo[c] += vault.redeem(shares, c, c);
    }

    function claimWithdraw(uint256 who, uint256 frac) external {
        address c = actors[who % 3];
        uint256 ca = vault.claimableAssets(c);
        uint256 assets = ca * (frac % 101) / 100;
        vm.prank(c);
        vault.withdraw(assets, c, c);
        paidTo[c] += assets;
    }

    /// @dev The off-chain book is marked up or down (within +-5 %).
    function mark(uint256 bps, bool up) external {
        bps = bps % 501;
        uint256 d = deployed;
        _push(up ? d + d * bps / 10_000 : d - d * bps / 10_000);
    }

    function deployCapital(uint256 frac) external {
        uint256 amount = vault.idleAssets() * (frac % 101) / 100;
        vm.prank(manager);
        vault.deployCapital(desk, amount);
        _push(deployed + amount);
    }

    function returnCapital(uint256 frac) external {
        uint256 amount = aid.balanceOf(desk) * (frac % 101) / 100;
        if (amount > deployed) amount = deployed;
        vm.prank(desk);
        aid.transfer(address(vault), amount);
        _push(deployed - amount);
    }

    function donate(uint256 amount) external {
        aid.mint(address(vault), amount % 1e24);
    }

    function warp(uint256 dt) external {
        vm.warp(block.timestamp + dt % 20 days);
        _push(deployed);
    }
}

/// @notice sAID invariants: share price never falls on deposit/mint/fulfil; the queue is FIFO
/// and each request is filled at most once in total; pending + claimable + claimed = requested;
/// reserved AID covers claimable AID; claims pay exactly what was reserved.
contract SAIDInvariantTest is VaultFixture {
    VaultHandler internal handler;

    function setUp() public {
        _setUpVault();
        uint256[] memory keys = new uint256[](QUORUM);
        for (uint256 i = 0; i < QUORUM; i++) keys[i] = signerKeys[i];
        handler = new VaultHandler(aid, vault, oracle, keys, admin);
        bytes32 guardian = oracle.GUARDIAN_ROLE();
        vm.prank(admin);
        oracle.grantRole(guardian, address(handler));
        aid.grantRole(aid.MINTER_ROLE(), address(handler));
        // the handler marks the book up and down within the oracle's deviation bound
        targetContract(address(handler));
    }

    /// forge-config: default.invariant.fail-on-revert = true
    /// forge-config: ci.invariant.fail-on-revert = true
    function invariant_sharePriceNeverFallsOnDepositMintOrFulfil() public view {
        assertEq(handler.priceDrops(), 0, "share price fell");
    }

    /// forge-config: default.invariant.fail-on-revert = true
    /// forge-config: ci.invariant.fail-on-revert = true
    function invariant_requestAccountingBalances() public view {
        assertEq(
            vault.totalPendingShares() + vault.totalClaimableShares() + vault.totalClaimedShares(),
            vault.totalRequestedShares(),
            "pending + claimable + claimed != requested"
        );
        assertEq(vault.balanceOf(address(vault)), vault.totalPendingShares(), "escrow != pending");
        uint256 pending;
        uint256 claimableShares;
        uint256 claimableAssets;
        for (uint256 i = 0; i < 3; i++) {
            address a = handler.actors(i);
            pending += vault.pendingShares(a);
            claimableShares += vault.claimableShares(a);
            claimableAssets += vault.claimableAssets(a);
            assertEq(handler.paidTo(a) + vault.claimableAssets(a), handler.reservedFor(a), "paid + claimable != reserved");
        }
        assertEq(pending, vault.totalPendingShares(), "sum pending");
        assertEq(claimableShares, vault.totalClaimableShares(), "sum claimable");
        assertGe(vault.reservedAssets(), claimableAssets, "reserved < claimable");
        assertGe(aid.balanceOf(address(vault)), vault.reservedAssets(), "balance < reserved");
    }

    /// forge-config: default.invariant.fail-on-revert = true
    /// forge-config: ci.invariant.fail-on-revert = true
    function invariant_queueIsFifoAndEachRequestFilledOnce() public view {
        uint256 head = vault.queueHead();
        uint256 end = vault.nextRequestId();
        for (uint256 id = 1; id < end; id++) {
            (, uint256 p,,) = vault.requests(id);
            assertEq(handler.filled(id) + p, handler.requested(id), "filled + pending != requested");
            if (id < head) assertEq(p, 0, "request before head still pending");
            if (id > head) assertEq(p, handler.requested(id), "request after head touched");
        }
    }
}
