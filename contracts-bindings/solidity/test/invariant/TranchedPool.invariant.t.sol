// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, CommonBase} from "../utils/Test.sol";
import {AID} from "../../src/AID.sol";
import {TranchedPool} from "../../src/TranchedPool.sol";
import {TrancheToken} from "../../src/TrancheToken.sol";
import {PoolWaterfall} from "../../src/PoolWaterfall.sol";

contract PoolHandler is CommonBase {
    AID internal aid;
    TranchedPool internal pool;
    address internal servicer;
    address[3] public actors = [address(0xA1), address(0xA2), address(0xA3)];

    /// @dev Set if a junior tranche received anything in a period the senior ended short.
    bool public juniorPaidWhileSeniorShort;
    /// @dev Set if a transfer changed the tranche's total claimable.
    bool public transferMovedClaims;
    uint256 public collectedTotal;
    uint256 public paidTotal;
    uint256 public periods;

    constructor(AID aid_, TranchedPool pool_, address servicer_) {
        aid = aid_;
        pool = pool_;
        servicer = servicer_;
    }

    function _sumClaimable(TrancheToken t) internal view returns (uint256 s) {
        for (uint256 i = 0; i < 3; i++) {
            s += t.claimable(actors[i]);
        }
    }

    /// @dev Revenue arrives and the servicer closes a period with random inputs.
    function period(uint256 interest, uint256 principal, uint256 perf, uint256 base) external {
        interest = interest % 100e18;
        principal = principal % 100e18;
        perf = perf % (pool.maxPerformingBalance() + 1);
        base = base % 1e8;
        aid.mint(address(pool), interest + principal);
        vm.warp(block.timestamp + pool.periodSeconds());
        vm.prank(servicer);
        PoolWaterfall.Flows memory f = pool.closePeriod(principal, perf, base);
        periods++;
        collectedTotal += interest + principal;
        paidTotal += f.feesPaid;
        for (uint256 j = 0; j < 3; j++) {
            paidTotal += f.interest[j] + f.principal[j];
        }
        if (pool.state().seniorInterestArrears > 0) {
            for (uint256 j = 1; j < 3; j++) {
                if (f.interest[j] + f.principal[j] > 0) juniorPaidWhileSeniorShort = true;
            }
        }
    }

    function transfer(uint256 tranche, uint256 from, uint256 to, uint256 amount) external {
        TrancheToken t = pool.tranches(tranche % 3);
        address a = actors[from % 3];
        uint256 bal = t.balanceOf(a);
        uint256 before = _sumClaimable(t);
        vm.prank(a);
        t.transfer(actors[to % 3], amount % (bal + 1));
        if (_sumClaimable(t) != before) transferMovedClaims = true;
    }

    function claim(uint256 tranche, uint256 who) external {
        TrancheToken t = pool.tranches(tranche % 3);
        address a = actors[who % 3];
        vm.prank(a);
        t.claim(a);
    }
}

/// @notice Invariants of TranchedPool and its tranche tokens under random periods (arrears, OC
/// breaches, capitalised junior interest), transfers and claims.
contract TranchedPoolInvariantTest is Test {
    AID internal aid;
    TranchedPool internal pool;
    PoolHandler internal handler;
    address internal admin = address(0xAD);
    address internal servicer = address(0x5E);

    function setUp() public {
        aid = new AID(address(this));
        TranchedPool.TrancheSpec[] memory s = new TranchedPool.TrancheSpec[](3);
        s[0] = TranchedPool.TrancheSpec({balance: 700e18, couponPpb: 60_000_000, floating: false, spreadPpb: 0});
        s[1] = TranchedPool.TrancheSpec({balance: 200e18, couponPpb: 0, floating: true, spreadPpb: 50_000_000});
        s[2] = TranchedPool.TrancheSpec({balance: 100e18, couponPpb: 0, floating: false, spreadPpb: 0});
        string[] memory n = new string[](3);
        string[] memory y = new string[](3);
        pool = new TranchedPool(
            aid, admin, servicer, address(0xFE), 75, 1_200_000_000, s, n, y, TranchedPool.Schedule(30 days, 30 days, 1200)
        );
        handler = new PoolHandler(aid, pool, servicer);
        aid.grantRole(aid.MINTER_ROLE(), address(this));
        aid.grantRole(aid.MINTER_ROLE(), address(handler));
        // Each actor holds part of every tranche.
        uint256[3] memory bal = [uint256(700e18), 200e18, 100e18];
        for (uint256 i = 0; i < 3; i++) {
            address a = handler.actors(i);
            aid.mint(a, 1000e18);
            vm.prank(a);
            aid.approve(address(pool), type(uint256).max);
            for (uint256 j = 0; j < 3; j++) {
                uint256 part = i < 2 ? bal[j] / 3 : bal[j] - 2 * (bal[j] / 3);
                vm.prank(a);
                pool.subscribe(j, part, a);
            }
        }
        vm.prank(admin);
        pool.closeIssue(address(0xF0));
        targetContract(address(handler));
    }

    /// @notice Claims outstanding on each tranche token never exceed the AID it holds.
    /// forge-config: ci.invariant.runs = 64
    function invariant_claimsNeverExceedAssets() public view {
        for (uint256 j = 0; j < 3; j++) {
            TrancheToken t = pool.tranches(j);
            uint256 sum;
            for (uint256 i = 0; i < 3; i++) {
                sum += t.claimable(handler.actors(i));
            }
            assertLe(sum, aid.balanceOf(address(t)), "claims > assets");
            assertEq(aid.balanceOf(address(t)), t.totalDistributed() - t.totalClaimed(), "token AID");
        }
    }

    /// @notice Nothing reaches a junior tranche in a period the senior ends short.
    /// forge-config: ci.invariant.runs = 64
    function invariant_noJuniorWhileSeniorShort() public view {
        assertFalse(handler.juniorPaidWhileSeniorShort(), "junior paid while the senior is short");
    }

    /// @notice A transfer never changes a tranche's total claimable.
    /// forge-config: ci.invariant.runs = 64
    function invariant_transferKeepsTotalClaimable() public view {
        assertFalse(handler.transferMovedClaims(), "a transfer moved claims");
    }

    /// @notice Every wei collected is paid out in its period (fees + tranche receipts).
    /// forge-config: ci.invariant.runs = 64
    function invariant_cashConserved() public view {
        assertEq(handler.collectedTotal(), handler.paidTotal(), "collections != payments");
        assertEq(aid.balanceOf(address(pool)), 0, "cash left in the pool");
    }
}
