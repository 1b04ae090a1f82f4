#!/usr/bin/env python3
"""Removes or weakens one guard at a time in contracts-bindings/solidity/src and checks that the
named tests then FAIL (a guard no test notices is a hole in the tests). Restores every file.
Manual tool, not part of test.sh:  python3 contracts-bindings/scripts/mutation-check.py [FILTER]
(FILTER: only mutants whose original text contains it.)
"""
import os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOL = os.path.join(ROOT, "solidity")
FORGE = os.path.join(ROOT, ".tools", "bin", "forge")

# (file, original text, mutated text, forge --match-contract regex that must fail)
MUTANTS = [
    ("ValuationOracle.sol", "if (report.round <= last) revert", "if (false) revert",
     "ValuationOracleTest|ValuationOracleInvariant"),
    ("ValuationOracle.sol", "if (seen[j] == signer) revert", "if (false) revert", "ValuationOracleTest"),
    ("ValuationOracle.sol", "if (!isSigner[signer]) revert Errors.UnknownSigner", "if (false) revert Errors.UnknownSigner",
     "ValuationOracleTest"),
    ("ValuationOracle.sol", "if (n < quorum) revert", "if (n + 1 < quorum) revert", "ValuationOracleTest"),
    ("ValuationOracle.sol", "if (report.observedAt > block.timestamp) revert", "if (false) revert",
     "ValuationOracleTest"),
    ("ValuationOracle.sol", "if (last != 0 && report.observedAt < prev.observedAt)", "if (false)",
     "ValuationOracleTest"),
    ("ValuationOracle.sol", "        _checkFresh(report.observedAt, report.validUntil);\n", "\n",
     "ValuationOracleTest"),
    ("ValuationOracle.sol", "        r = _reports[latestRound];\n        _checkFresh(r.observedAt, r.validUntil);",
     "        r = _reports[latestRound];", "ValuationOracleTest|LendingMarketTest|SAIDTest"),
    ("ValuationOracle.sol", "return lhs <= rhs;", "return true;", "ValuationOracleTest"),
    ("ValuationOracle.sol", "if (report.navPerShare == 0) revert", "if (false) revert", "ValuationOracleTest"),
    # Issue 15's guards: rate of change over time, sequential rounds, the decaying lenders'
    # price, collateral with more than 18 + loan decimals (docs/ONCHAIN.md).
    ("ValuationOracle.sol", "if (report.round != last + 1) revert", "if (false) revert",
     "ValuationOracleTest|ConformanceTest"),
    ("ValuationOracle.sol", "if (!ok && nav > lastNav) revert", "if (false) revert",
     "ValuationOracleTest|ConformanceTest"),
    ("ValuationOracle.sol", "uint256 up = Math.mulDiv(last, uint256(maxGrowthBpsPerYear) * dt, 10_000 * YEAR);",
     "uint256 up = Math.mulDiv(last, uint256(maxGrowthBpsPerYear) * dt, 10_000 * YEAR) + 1;",
     "ValuationOracleTest"),
    ("ValuationOracle.sol", "if (report.observedAt <= prev.observedAt) revert", "if (false) revert",
     "ValuationOracleTest|ConformanceTest"),
    ("ValuationOracle.sol", "if (block.timestamp < earliest) revert", "if (false) revert", "ValuationOracleTest"),
    ("ValuationOracle.sol", "                delete guardianApproved[d];\n", "\n", "ValuationOracleTest"),
    ("ValuationOracle.sol", "        lastSubmittedAt = uint64(block.timestamp);\n", "\n", "ValuationOracleTest"),
    ("ValuationOracle.sol", "return Math.mulDiv(nav, decay - late, decay);", "return nav;",
     "ValuationOracleTest|LendingMarketTest"),
    # (`late > decay` would be an equivalent mutant: at late == decay the formula gives 0 too.)
    ("ValuationOracle.sol", "        if (late >= decay) return 0;\n", "\n",
     "ValuationOracleTest|LendingMarketTest"),
    ("ValuationOracle.sol", "if (block.timestamp <= s) return nav;", "if (block.timestamp < s) return nav;",
     "ValuationOracleTest|LendingMarketTest"),
    ("ValuationOracle.sol", "return block.timestamp <= r.validUntil && block.timestamp <= uint256(r.observedAt) + maxAge;",
     "return block.timestamp <= r.validUntil;", "ValuationOracleTest|LendingMarketTest|SAIDTest|ConformanceTest"),
    ("ValuationOracle.sol", "priceDivisor = 10 ** (collateralDecimals_ - up);", "priceDivisor = 1;",
     "ValuationOracleTest|LendingMarketTest|ConformanceTest"),
    ("SAID.sol", "if (shares == 0) revert Errors.ZeroShares();", "", "SAIDTest"),
    ("SAID.sol", "        capBase -= assets;\n", "\n", "SAIDTest|SAIDInvariant"),
    ("SAID.sol", "uint256 assets = shares.mulDiv(ta + 1, supply, Math.Rounding.Floor);",
     "uint256 assets = shares.mulDiv(ta + 1, supply, Math.Rounding.Ceil);", "SAIDTest|SAIDInvariant"),
    ("SAID.sol", "        _checkController(controller);\n        uint256 cs", "        uint256 cs", "SAIDTest"),
    ("SAID.sol", "        lastDeployAt = block.timestamp;\n", "\n", "SAIDTest"),
    ("SAID.sol", "if (block.timestamp < cycleEnd) revert", "if (false) revert", "SAIDTest"),
    ("SAID.sol", "if (head == end || idleExhausted) {", "if (true) {", "SAIDTest"),
    # ERC-4626 views that never revert, fail-closed actions, per-request ERC-7540 amounts.
    ("SAID.sol", "return _bounded(lastValuedAssets());", "return _bounded(rawTotalAssets());",
     "ConformanceTest|SAIDPropertiesTest"),
    ("SAID.sol", "function maxDeposit(address) public view override returns (uint256) {\n        return _valued() ? type(uint256).max : 0;",
     "function maxDeposit(address) public view override returns (uint256) {\n        return type(uint256).max;",
     "ConformanceTest|SAIDPropertiesTest"),
    ("SAID.sol", "return oracle.isFresh() && oracle.latestReport().observedAt >= lastDeployAt;",
     "return oracle.isFresh();", "ConformanceTest|SAIDPropertiesTest"),
    ("SAID.sol", "return r.controller == controller ? r.claimableShares : 0;", "return claimableShares[controller];",
     "ConformanceTest|SAIDPropertiesTest"),
    ("SAID.sol", "return r.controller == controller ? r.pendingShares : 0;", "return pendingShares[controller];",
     "ConformanceTest|SAIDPropertiesTest"),
    # Issue 20 items 1, 3-6: value bounds, the mark-down rate (oracle), the one bounded figure of
    # sAID (growth cap + mark-down floor for deposits, mints, fulfilments and conversions), the
    # guardian's fast path, the non-reentrant poke, dust swept by withdraw.
    ("ValuationOracle.sol", "if (report.navPerShare > maxNavPerShare) revert", "if (false) revert",
     "ValuationOracleTest|ValuationOracleInvariant"),
    ("ValuationOracle.sol", "if (report.deployedValue > MAX_VALUE) revert", "if (false) revert",
     "ValuationOracleTest|ValuationOracleInvariant"),
    ("ValuationOracle.sol", "maxNavPerShare = Math.min(MAX_VALUE, type(uint256).max / priceScale);",
     "maxNavPerShare = MAX_VALUE;", "ValuationOracleTest"),
    ("ValuationOracle.sol", "if (!ok) revert Errors.MarkdownTooFast", "if (false) revert Errors.MarkdownTooFast",
     "ValuationOracleTest|ValuationOracleInvariant"),
    ("ValuationOracle.sol", "uint256 down = Math.mulDiv(last, uint256(maxMarkdownBpsPerDay) * dt, 10_000 * DAY);",
     "uint256 down = Math.mulDiv(last, uint256(maxMarkdownBpsPerDay) * dt, 10_000 * DAY) + 1;",
     "ValuationOracleTest"),
    ("ValuationOracle.sol", "if (!ok) revert Errors.LtvMoveTooFast", "if (false) revert Errors.LtvMoveTooFast",
     "ValuationOracleTest"),
    ("SAID.sol", "return Math.min(Math.max(value, floorAssets()), capAssets());", "return Math.min(value, capAssets());",
     "SAIDTest"),
    ("SAID.sol", "return drop >= capBase ? 0 : capBase - drop;", "return drop >= capBase ? 0 : capBase - drop / 2;",
     "SAIDTest|ConformanceTest"),
    ("SAID.sol", "return assets.mulDiv(totalSupply() + VIRTUAL_SHARES, _bounded(rawTotalAssets()) + 1, Math.Rounding.Floor);",
     "return assets.mulDiv(totalSupply() + VIRTUAL_SHARES, rawTotalAssets() + 1, Math.Rounding.Floor);", "SAIDTest"),
    ("SAID.sol", "return shares.mulDiv(_bounded(rawTotalAssets()) + 1, totalSupply() + VIRTUAL_SHARES, Math.Rounding.Ceil);",
     "return shares.mulDiv(rawTotalAssets() + 1, totalSupply() + VIRTUAL_SHARES, Math.Rounding.Ceil);", "SAIDTest"),
    ("SAID.sol", "function pokeGrowthCap() external nonReentrant {", "function pokeGrowthCap() external {", "SAIDTest"),
    ("SAID.sol", "function acceptValuation() external onlyRole(GUARDIAN_ROLE) nonReentrant {",
     "function acceptValuation() external nonReentrant {", "SAIDTest"),
    ("SAID.sol", "if (maxNavDropBpsPerDay_ > 1_000_000) revert", "if (false) revert", "SAIDTest"),
    ("SAID.sol", "if (amount == 0 && (byShares || ra != 0)) break;", "if (amount == 0) break;", "SAIDTest"),
    ("LendingMarket.sol", "if (!oracle.isFresh()) revert Errors.StalePrice();", "",
     "LendingMarketTest|ConformanceTest"),
    ("LendingMarket.sol", "if (p == 0) revert Errors.ZeroPrice();", "", "LendingMarketTest|LendingMarketInvariant"),
    ("LendingMarket.sol", "if (d > limit) revert Errors.BorrowLimitExceeded(d, limit);\n        uint256 available",
     "if (d > limit + 1) revert Errors.BorrowLimitExceeded(d, limit);\n        uint256 available",
     "LendingMarketTest|LendingMarketInvariant"),
    ("LendingMarket.sol", "if (debt <= limit) revert", "if (debt < limit) revert",
     "LendingMarketTest|LendingMarketInvariant"),
    ("AIDMinter.sol", "aidAmount = received * scale;", "aidAmount = received * scale + 1;",
     "AIDMinterTest|AIDMinterInvariant"),
    ("RevenueRouter.sol", "uint256 share = (amount / 10_000) * shareBps + ((amount % 10_000) * shareBps) / 10_000;",
     "uint256 share = (remaining / 10_000) * shareBps + ((remaining % 10_000) * shareBps) / 10_000;",
     "RevenueRouterTest"),
    ("AID.sol", "function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE)",
     "function mint(address to, uint256 amount) external", "AIDTest"),
    # Issue 20 item 2: the fail-closed Morpho Blue reading (tested on a real Morpho Blue market).
    # Without the freshness guard the adapter is the old, decaying reading.
    ("MorphoOracleAdapter.sol", "if (!source.isFresh()) revert", "if (false) revert", "MorphoOracleAdapterTest"),
    ("MorphoOracleAdapter.sol", "if (p == 0) revert", "if (false) revert", "MorphoOracleAdapterTest"),
    ("MorphoOracleAdapter.sol", "if (address(source_) == address(0)) revert", "if (false) revert",
     "MorphoOracleAdapterTest"),
    # Issue 25: tranched pools, tranche tokens, per-tranche prices (docs/ONCHAIN.md).
    ("TrancheToken.sol", "        if (to != from) _checkpoint(to);\n", "\n",
     "TranchedPoolTest|TranchedPoolInvariant"),
    ("TrancheToken.sol", "        _checkpoint(from);\n", "\n", "TranchedPoolTest|TranchedPoolInvariant"),
    ("PoolWaterfall.sol", "            cure = cash.principal < s.seniorInterestArrears ? cash.principal : s.seniorInterestArrears;",
     "            cure = 0;", "TranchedPoolTest"),
    ("PoolWaterfall.sol", "if (perf * PPB >= t.ocTriggerPpb * senior) return;", "return;", "TranchedPoolTest"),
    ("PoolWaterfall.sol", "if (r2 > unit || (r2 == unit && (mode == 2 || (mode == 0 && q % 2 == 1)))) q += 1;",
     "if (r2 > unit || (r2 == unit && (mode == 2 || mode == 0))) q += 1;", "TranchedPoolTest"),
    # Review finding L5: three wrong waterfalls the tests once let through.
    ("PoolWaterfall.sol",
     "        _interest(t, s, c, f, cash);\n        if (t.ocTriggerPpb > 0 && !c.legalFinal) _ocCure(t, s, c.performingBalance, f, cash);\n",
     "        if (t.ocTriggerPpb > 0 && !c.legalFinal) _ocCure(t, s, c.performingBalance, f, cash);\n        _interest(t, s, c, f, cash);\n",
     "TranchedPoolTest"),
    ("PoolWaterfall.sol", "f.writedown[j] = s.balances[j] + (j == 0 ? s.seniorInterestArrears : 0);",
     "f.writedown[j] = s.balances[j];", "TranchedPoolTest"),
    ("PoolWaterfall.sol", "uint256 covered = _ceilDiv(perf * PPB, t.ocTriggerPpb);",
     "uint256 covered = (perf * PPB) / t.ocTriggerPpb;", "TranchedPoolTest"),
    ("TranchedPool.sol", "if (amount > remaining) revert", "if (false) revert", "TranchedPoolTest"),
    ("TranchedPool.sol", "if (principalProceeds > cash) revert", "if (false) revert", "TranchedPoolTest"),
    # Review of issue 25: H1 (issue deadline, cancel, refunds), M3 (period spacing, fixed legal
    # final), H2 (residual after maturity).
    ("TranchedPool.sol", "if (block.timestamp > issueDeadline) revert", "if (false) revert", "TranchedPoolTest"),
    ("TranchedPool.sol", "if (block.timestamp <= issueDeadline && !hasRole(", "if (false && !hasRole(",
     "TranchedPoolTest"),
    ("TranchedPool.sol", "        if (issueCancelled) revert Errors.IssueCancelled();\n        if (fundingRecipient",
     "        if (fundingRecipient", "TranchedPoolTest"),
    ("TranchedPool.sol", "if (block.timestamp < lastClose + periodSeconds) revert", "if (false) revert",
     "TranchedPoolTest"),
    ("TranchedPool.sol", "bool legalFinal = p == legalFinalPeriod;", "bool legalFinal = p == legalFinalPeriod + 1;",
     "TranchedPoolTest"),
    ("TranchedPool.sol", "                if (x > due) x = due;\n", "\n", "TranchedPoolTest"),
    ("TrancheOracle.sol", "                _checkTrancheRates(prev, r, balances);\n", "\n", "TrancheOracleTest"),
    ("TrancheOracle.sol", "if (r.round != last + 1) revert", "if (false) revert", "TrancheOracleTest"),
    # Review findings L2/L3: the tranche count and per-tranche maximum prices from the constructor.
    ("TrancheOracle.sol", "if (n != maxPrices.length) revert", "if (false) revert", "TrancheOracleTest"),
    ("TrancheOracle.sol", "if (r.prices[j] > maxPrices[j]) revert", "if (false) revert", "TrancheOracleTest"),
    ("TrancheOracle.sol", "        _checkFresh(r.observedAt, r.validUntil);\n        uint256 current = tranchedPool.period();",
     "        uint256 current = tranchedPool.period();", "TrancheOracleTest"),
    # Review finding M1: a tranche price is for the pool's current period (submit and read), and
    # across a period close the rates compare with the last price rebased to the new balance.
    ("TrancheOracle.sol", "        if (r.period != current) revert Errors.WrongPeriod(current, r.period);\n        uint64 last",
     "        uint64 last", "TrancheOracleTest"),
    ("TrancheOracle.sol", "        if (r.period != current) revert Errors.WrongPeriod(current, r.period);\n        if (j >= r.prices.length)",
     "        if (j >= r.prices.length)", "TrancheOracleTest"),
    ("TrancheOracle.sol", "\n            && r.period == tranchedPool.period();", ";", "TrancheOracleTest"),
    ("TrancheOracle.sol", "if (rebase && _pricedBalances[j] != 0)", "if (false)", "TrancheOracleTest"),
    # Review finding M4: claim receivers for holders that cannot call `claim`.
    ("TrancheToken.sol", "if (!IAccessControl(pool).hasRole(0x00, msg.sender)) revert", "if (false) revert",
     "TranchedPoolTest"),
    ("TrancheToken.sol", "if (holder.code.length == 0) revert", "if (false) revert", "TranchedPoolTest"),
    ("TrancheToken.sol", "if (claimReceiverSetByHolder[holder]) revert", "if (false) revert", "TranchedPoolTest"),
    ("TrancheToken.sol", "if (receiver == address(0)) revert Errors.NoClaimReceiver", "if (false) revert Errors.NoClaimReceiver",
     "TranchedPoolTest"),
    # Review finding M2: split roles, bounded performing balance, timelocked fee recipient.
    ("TranchedPool.sol", "(role == SERVICER_ROLE && hasRole(DEFAULT_ADMIN_ROLE, account))", "false", "TranchedPoolTest"),
    ("TranchedPool.sol", "if (performingBalance > maxPerf) revert", "if (false) revert",
     "TranchedPoolTest|TrancheOracleTest"),
    ("TranchedPool.sol", "        principalReturned += principalProceeds;\n", "\n", "TranchedPoolTest"),
    ("TranchedPool.sol", "if (block.timestamp < pendingFeeRecipientEta) revert", "if (false) revert",
     "TranchedPoolTest"),
    # Review finding L6: fee arrears written off at the legal final.
    ("TranchedPool.sol", "                _state.feeArrears = 0;\n", "\n", "TranchedPoolTest"),
]


def main() -> int:
    survived = []
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    mutants = [m for m in MUTANTS if only in m[1]]
    for fname, old, new, match in mutants:
        path = os.path.join(SOL, "src", fname)
        src = open(path).read()
        if src.count(old) != 1:
            print(f"SKIP  {fname}: pattern not found exactly once: {old[:60]!r}")
            survived.append((fname, old))
            continue
        try:
            open(path, "w").write(src.replace(old, new))
            r = subprocess.run([FORGE, "test", "--match-contract", match], cwd=SOL,
                               capture_output=True, text=True)
        finally:
            open(path, "w").write(src)
        killed = r.returncode != 0
        print(f"{'KILLED' if killed else 'SURVIVED'}  {fname}: {old.strip()[:70]!r}")
        if not killed:
            survived.append((fname, old))
    print(f"{len(mutants) - len(survived)}/{len(mutants)} mutants killed")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
