// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VaultFixture} from "./utils/VaultFixture.sol";
import {Errors} from "../src/Errors.sol";

/// @notice ERC-4626 property-suite style (a16z's erc4626-tests: every view agrees with what the
/// matching action does; what must not revert does not) and ERC-7540 request -> claimable ->
/// claim transitions per request id, fuzzed over vault states: valued, stale report, and capital
/// deployed but not yet valued.
contract SAIDPropertiesTest is VaultFixture {
    uint8 internal constant VALUED = 0;
    uint8 internal constant STALE = 1;
    uint8 internal constant AWAITING = 2;

    function setUp() public {
        _setUpVault();
    }

    /// @dev A random vault: deposits by alice and bob, a donation, a deployment valued by a
    /// report that marks it up or down, time for the growth cap, then one of the three states.
    function _scenario(uint256 seed) internal returns (uint8 state) {
        _deposit(alice, 1e18 + seed % 1_000_000e18);
        _deposit(bob, 1 + (seed >> 64) % 1_000e18);
        aid.mint(address(vault), (seed >> 128) % 10e18); // donation
        vm.warp(block.timestamp + 1 + (seed >> 20) % 20 days);
        uint256 idle = vault.idleAssets();
        uint256 out = idle * ((seed >> 30) % 90) / 100;
        vm.prank(admin);
        vault.deployCapital(desk, out);
        // the book marked within +-10 % of what went out
        uint256 value = out * (90 + (seed >> 40) % 21) / 100;
        _report(value);
        state = uint8((seed >> 50) % 3);
        if (state == STALE) {
            vm.warp(block.timestamp + 1 days + 1 + (seed >> 60) % 30 days);
        } else if (state == AWAITING) {
            vm.warp(block.timestamp + 1);
            uint256 half = vault.idleAssets() / 2;
            vm.prank(admin);
            vault.deployCapital(desk, half);
        }
    }

    // ------------------------------------------------------------ ERC-4626

    function testFuzzViewsNeverRevert(uint256 seed, uint256 assets, uint256 shares) public {
        _scenario(seed);
        assets = bound(assets, 0, 1e36);
        shares = bound(shares, 0, 1e42);
        vault.totalAssets();
        vault.convertToShares(assets);
        vault.convertToAssets(shares);
        vault.maxDeposit(alice);
        vault.maxMint(alice);
        vault.maxRedeem(alice);
        vault.maxWithdraw(alice);
        vault.pendingRedeemRequest(1, alice);
        vault.claimableRedeemRequest(1, alice);
        vault.navPerShare();
        vault.lastValuedAssets();
        vault.isValued();
    }

    function testFuzzMaxDepositAgreesWithDeposit(uint256 seed, uint256 assets) public {
        uint8 state = _scenario(seed);
        assets = bound(assets, 1e6, 1_000_000e18);
        address carol = address(0xCA201);
        _fund(carol, assets);
        uint256 max = vault.maxDeposit(carol);
        if (state != VALUED) {
            assertEq(max, 0, "not valued: maxDeposit 0");
            assertEq(vault.maxMint(carol), 0, "not valued: maxMint 0");
            vm.prank(carol);
            vm.expectRevert();
            vault.deposit(assets, carol);
            vm.prank(carol);
            vm.expectRevert();
            vault.mint(1e24, carol);
            return;
        }
        assertGe(max, assets);
        uint256 preview = vault.previewDeposit(assets);
        // the deposit never gets more than the conversion (deposits price at the higher raw NAV)
        assertLe(preview, vault.convertToShares(assets), "previewDeposit <= convertToShares");
        vm.prank(carol);
        uint256 got = vault.deposit(assets, carol);
        assertEq(got, preview, "deposit == previewDeposit");
        assertEq(vault.balanceOf(carol), got);
    }

    function testFuzzPreviewMintAgreesWithMint(uint256 seed, uint256 shares) public {
        uint8 state = _scenario(seed);
        vm.assume(state == VALUED);
        shares = bound(shares, 1e6, 1_000_000e24);
        address carol = address(0xCA201);
        uint256 preview = vault.previewMint(shares);
        assertGe(preview, vault.convertToAssets(shares), "previewMint >= convertToAssets");
        _fund(carol, preview);
        vm.prank(carol);
        uint256 paid = vault.mint(shares, carol);
        assertEq(paid, preview, "mint pulls previewMint");
        assertEq(aid.balanceOf(carol), 0);
    }

    function testFuzzConversionsRoundTowardsTheVault(uint256 seed, uint256 assets, uint256 a2) public {
        _scenario(seed);
        assets = bound(assets, 0, 1e30);
        a2 = bound(a2, 0, 1e30);
        assertLe(vault.convertToAssets(vault.convertToShares(assets)), assets, "round trip rounds down");
        assertGe(
            vault.convertToShares(assets + a2),
            vault.convertToShares(assets) + vault.convertToShares(a2),
            "convertToShares is superadditive (floor)"
        );
    }

    function testFuzzActionsRevertOnlyWhenNotValued(uint256 seed) public {
        uint8 state = _scenario(seed);
        vm.prank(alice);
        vault.requestRedeem(1e24, alice, alice); // always possible: no NAV needed
        vm.warp(vault.cycleEnd() > block.timestamp ? vault.cycleEnd() : block.timestamp);
        if (state == VALUED) _refresh();
        bool valued = vault.isValued();
        if (valued) {
            vault.fulfil(10);
            vault.pokeGrowthCap();
        } else {
            vm.expectRevert();
            vault.fulfil(10);
            vm.expectRevert();
            vault.pokeGrowthCap();
        }
        vault.totalAssets();
    }

    // ------------------------------------------------------------ ERC-7540, per request id

    function testFuzzRequestClaimableClaimPerRequestId(uint256 seed, uint256 n, uint256 idleShare) public {
        _deposit(alice, 1_000e18);
        _deposit(bob, 1_000e18);
        n = bound(n, 1, 6);
        uint256[] memory ids = new uint256[](n);
        uint256[] memory sizes = new uint256[](n);
        address[] memory owners = new address[](n);
        for (uint256 i = 0; i < n; i++) {
            owners[i] = uint256(keccak256(abi.encode(seed, i))) % 2 == 0 ? alice : bob;
            sizes[i] = 1e24 + uint256(keccak256(abi.encode(seed, i, "size"))) % 200e24;
            vm.prank(owners[i]);
            ids[i] = vault.requestRedeem(sizes[i], owners[i], owners[i]);
            // requested: all pending, nothing claimable
            assertEq(vault.pendingRedeemRequest(ids[i], owners[i]), sizes[i]);
            assertEq(vault.claimableRedeemRequest(ids[i], owners[i]), 0);
        }
        // only part of the idle AID stays: partial fulfilment
        vm.warp(vault.cycleEnd());
        uint256 keep = bound(idleShare, 1e18, 2_000e18);
        uint256 away = vault.idleAssets() - keep;
        vm.prank(admin);
        vault.deployCapital(desk, away);
        _report(oracle.latestReport().deployedValue + 2_000e18 - keep);
        vault.fulfil(10);
        _checkPerRequest(ids, sizes, owners);
        // claims, oldest request first; per-request figures follow
        for (uint256 k = 0; k < 2; k++) {
            address c = k == 0 ? alice : bob;
            uint256 cs = vault.maxRedeem(c);
            if (cs == 0) continue;
            uint256 part = cs * (1 + uint256(keccak256(abi.encode(seed, k, "claim"))) % 100) / 100;
            uint256 owedBefore = vault.maxWithdraw(c);
            vm.prank(c);
            uint256 paid = vault.redeem(part, c, c);
            assertEq(owedBefore - vault.maxWithdraw(c), paid);
            _checkPerRequest(ids, sizes, owners);
            // the rest by assets
            uint256 rest = vault.maxWithdraw(c);
            vm.prank(c);
            vault.withdraw(rest, c, c);
            assertEq(vault.maxRedeem(c), 0, "all claimed");
            _checkPerRequest(ids, sizes, owners);
        }
    }

    /// @dev Per controller: per-request pending and claimable sum to the aggregates; a request's
    /// pending + claimable never exceeds what it requested; the claimable ones precede the
    /// pending ones (FIFO) once something is claimable.
    function _checkPerRequest(uint256[] memory ids, uint256[] memory sizes, address[] memory owners) internal view {
        for (uint256 k = 0; k < 2; k++) {
            address c = k == 0 ? alice : bob;
            uint256 pending;
            uint256 claimable;
            uint256 claimableAssets;
            for (uint256 i = 0; i < ids.length; i++) {
                uint256 p = vault.pendingRedeemRequest(ids[i], c);
                uint256 s = vault.claimableRedeemRequest(ids[i], c);
                if (owners[i] != c) {
                    assertEq(p + s, 0, "another controller's request reads 0");
                    continue;
                }
                assertLe(p + s, sizes[i], "pending + claimable <= requested");
                pending += p;
                claimable += s;
                claimableAssets += vault.claimableRedeemAssets(ids[i], c);
            }
            assertEq(pending, vault.pendingRedeemRequest(0, c), "sum of pending");
            assertEq(claimable, vault.claimableRedeemRequest(0, c), "sum of claimable");
            assertEq(claimable, vault.maxRedeem(c));
            assertEq(claimableAssets, vault.maxWithdraw(c), "sum of claimable assets");
        }
    }

    function testClaimByAssetsConsumesOldestRequestFirst() public {
        _deposit(alice, 300e18);
        vm.startPrank(alice);
        uint256 id1 = vault.requestRedeem(100e24, alice, alice);
        uint256 id2 = vault.requestRedeem(100e24, alice, alice);
        vm.stopPrank();
        vm.warp(vault.cycleEnd());
        _refresh();
        vault.fulfil(10);
        uint256 a1 = vault.claimableRedeemAssets(id1, alice);
        vm.prank(alice);
        uint256 used = vault.withdraw(a1 + 1, alice, alice);
        assertEq(vault.claimableRedeemRequest(id1, alice), 0);
        assertEq(vault.claimableRedeemAssets(id2, alice), vault.maxWithdraw(alice));
        assertEq(used, 100e24 + (100e24 - vault.claimableRedeemRequest(id2, alice)), "all of id 1, a little of id 2");
        uint256 left = vault.maxWithdraw(alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Errors.ExceedsClaimable.selector, left + 1, left));
        vault.withdraw(left + 1, alice, alice);
    }
}
