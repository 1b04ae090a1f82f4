// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title PoolWaterfall
/// @notice The pool waterfall of docs/MODEL.md §6 in integer AID wei (1 USD = 1e18 wei), one
/// month per `step`. The Rust engine's `gaib_engine::pool_wei::step` is the same function
/// (differential test in contracts-bindings/tests/anvil/waterfall.rs), and on cents-exact inputs
/// both equal the engine's Decimal waterfall (engine/src/pool_wei.rs tests).
/// @dev Order each month: senior fees (with arrears) -> debt interest in seniority from interest
/// proceeds (a senior shortfall stays due as arrears, a junior shortfall capitalises) -> OC test
/// (if breached, the remaining interest proceeds pay principal sequentially until cured, else
/// they go to equity) -> principal proceeds: unpaid senior fees, the senior's arrears, principal
/// sequentially, then equity. At the legal final all proceeds are one pot paid in seniority
/// (each debt tranche's interest, then its principal), and what is unpaid is written down.
///
/// Rounding (all amounts in wei; a cent is 1e16 wei):
///   fee due    = perf x feeBps / 120_000 rounded to the cent; half a cent rounds to even if
///                feeBps % 3 == 0, down if feeBps % 3 == 1, up if feeBps % 3 == 2 (what the
///                Decimal engine does: it computes feeBps / 120_000 to 28 places first);
///   coupon due = balance x ratePpb / 12e9 rounded to the cent, half to even;
///   OC cure    = senior - ceil(perf x 1e9 / ocTriggerPpb) (the exact cure rounded down to the
///                wei; exact whenever perf / ocTrigger is a whole number of wei);
/// everything else is exact. Sum of fees and tranche receipts = interest + principal proceeds.
library PoolWaterfall {
    /// @notice A cent in AID wei.
    uint256 internal constant CENT = 1e16;
    /// @notice Rates are annual, in parts per billion (1e9 = 100 %/year).
    uint256 internal constant PPB = 1e9;

    /// @notice A pool's fixed terms. Tranches in seniority order, the last is the equity.
    struct Terms {
        uint256 seniorFeeBps; // annual, on the performing balance, bps
        uint256 ocTriggerPpb; // performing balance / senior outstanding, x 1e9; 0 disables
        uint256[] couponPpb; // fixed annual coupon per tranche, ppb (ignored if floating, 0 for equity)
        bool[] floating; // whether the tranche pays baseRate + spreadPpb
        uint256[] spreadPpb; // floating spread per tranche, ppb per year
    }

    /// @notice Balances and arrears between months, wei.
    struct State {
        uint256[] balances; // outstanding per tranche (equity: notional, never amortised)
        uint256 seniorInterestArrears; // unpaid senior interest carried forward
        uint256 feeArrears; // unpaid senior fees carried forward
    }

    /// @notice One month's collections and inputs, wei / ppb.
    struct Collections {
        uint256 interestProceeds; // interest, revenue-share income, kickers
        uint256 principalProceeds; // principal, revenue-share capital, recoveries
        uint256 performingBalance; // performing balance of the pool's deals at the month start
        uint256 baseRatePpb; // floating base rate, annual ppb
        bool legalFinal; // the pool's legal final month
    }

    /// @notice What one month paid, wei per tranche.
    struct Flows {
        uint256 feesPaid; // senior fees paid (current and arrears)
        uint256[] interest; // interest paid (equity: residual interest proceeds)
        uint256[] principal; // principal paid (equity: residual principal proceeds)
        uint256[] shortfall; // senior: arrears at month end; other debt: this month's capitalised shortfall
        uint256[] writedown; // written down at the legal final (senior: balance + arrears)
        bool ocBreached; // the OC test failed this month
        bool seniorInterestDefault; // the senior ends the month with unpaid interest
    }

    struct Cash {
        uint256 interest;
        uint256 principal;
    }

    /// @notice Runs one month on `s` (updated in place) and returns the month's flows.
    /// @param t The pool's terms (arrays of the same length as `s.balances`, at least 1).
    /// @param s The state before the month; holds the state after it on return.
    /// @param c The month's collections (wei) and base rate (ppb).
    /// @return f Fees and per-tranche flows, wei.
    function step(Terms memory t, State memory s, Collections memory c) internal pure returns (Flows memory f) {
        uint256 n = s.balances.length;
        uint256 eq = n - 1;
        f.interest = new uint256[](n);
        f.principal = new uint256[](n);
        f.shortfall = new uint256[](n);
        f.writedown = new uint256[](n);
        Cash memory cash = Cash(c.interestProceeds, c.principalProceeds);
        _interest(t, s, c, f, cash);
        if (t.ocTriggerPpb > 0 && !c.legalFinal) _ocCure(t, s, c.performingBalance, f, cash);
        _principal(s, f, cash, eq, c.legalFinal);
    }

    /// @dev 1. Senior fees, then debt interest in order (at the legal final: from both kinds of
    /// proceeds, each tranche's principal right after its interest).
    function _interest(Terms memory t, State memory s, Collections memory c, Flows memory f, Cash memory cash)
        private
        pure
    {
        bool fin = c.legalFinal;
        uint256 feesDue = s.feeArrears + feeDue(c.performingBalance, t.seniorFeeBps);
        uint256 fees = _take(cash, feesDue, fin);
        f.feesPaid = fees;
        s.feeArrears = feesDue - fees;
        uint256 eq = s.balances.length - 1;
        for (uint256 j = 0; j < eq; j++) {
            uint256 due = couponDue(s.balances[j], t.floating[j] ? c.baseRatePpb + t.spreadPpb[j] : t.couponPpb[j]);
            if (j == 0) due += s.seniorInterestArrears;
            uint256 paid = _take(cash, due, fin);
            f.interest[j] = paid;
            if (j == 0) {
                s.seniorInterestArrears = due - paid;
            } else {
                f.shortfall[j] = due - paid;
                s.balances[j] += due - paid;
            }
            if (fin) {
                paid = _take(cash, s.balances[j], true);
                f.principal[j] += paid;
                s.balances[j] -= paid;
            }
        }
    }

    /// @dev 2. OC test on the most senior outstanding debt tranche; if breached, the remaining
    /// interest proceeds pay principal sequentially until cured.
    function _ocCure(Terms memory t, State memory s, uint256 perf, Flows memory f, Cash memory cash) private pure {
        uint256 eq = s.balances.length - 1;
        uint256 sIdx = eq;
        for (uint256 j = 0; j < eq; j++) {
            if (s.balances[j] != 0) {
                sIdx = j;
                break;
            }
        }
        if (sIdx == eq) return;
        uint256 senior = s.balances[sIdx];
        if (perf * PPB >= t.ocTriggerPpb * senior) return;
        f.ocBreached = true;
        uint256 covered = _ceilDiv(perf * PPB, t.ocTriggerPpb);
        uint256 cure = senior > covered ? senior - covered : 0;
        if (cash.interest < cure) cure = cash.interest;
        cash.interest -= cure;
        for (uint256 j = sIdx; j < eq; j++) {
            uint256 pay = cure < s.balances[j] ? cure : s.balances[j];
            f.principal[j] += pay;
            s.balances[j] -= pay;
            cure -= pay;
        }
        cash.interest += cure;
    }

    /// @dev 3. Principal proceeds: unpaid senior fees, the senior's arrears, principal in order;
    /// the equity takes what is left of both kinds of proceeds; write-downs at the legal final.
    function _principal(State memory s, Flows memory f, Cash memory cash, uint256 eq, bool fin) private pure {
        uint256 cure = cash.principal < s.feeArrears ? cash.principal : s.feeArrears;
        cash.principal -= cure;
        s.feeArrears -= cure;
        f.feesPaid += cure;
        if (eq > 0) {
            cure = cash.principal < s.seniorInterestArrears ? cash.principal : s.seniorInterestArrears;
            cash.principal -= cure;
            s.seniorInterestArrears -= cure;
            f.interest[0] += cure;
            f.shortfall[0] = s.seniorInterestArrears;
            f.seniorInterestDefault = s.seniorInterestArrears != 0;
        }
        for (uint256 j = 0; j < eq; j++) {
            uint256 pay = cash.principal < s.balances[j] ? cash.principal : s.balances[j];
            f.principal[j] += pay;
            s.balances[j] -= pay;
            cash.principal -= pay;
        }
        f.interest[eq] += cash.interest;
        f.principal[eq] += cash.principal;
        if (fin) {
            for (uint256 j = 0; j < eq; j++) {
                f.writedown[j] = s.balances[j] + (j == 0 ? s.seniorInterestArrears : 0);
                s.balances[j] = 0;
            }
            s.seniorInterestArrears = 0;
        }
    }

    /// @notice This month's senior fee on `performing` wei at `feeBps` per year, in wei, rounded
    /// to the cent (ties: even if feeBps % 3 == 0, down if 1, up if 2; see the contract doc).
    /// @param performing Performing balance, wei (at most 2^128 - 1).
    /// @param feeBps Annual fee, bps (at most 10_000).
    /// @return Fee due, wei (a whole number of cents).
    function feeDue(uint256 performing, uint256 feeBps) internal pure returns (uint256) {
        uint256 mode = feeBps % 3; // 0: half even, 1: half down, 2: half up
        return _roundCents(performing * feeBps, 120_000, mode == 0 ? 0 : (mode == 1 ? 1 : 2));
    }

    /// @notice A month's interest on `balance` wei at `ratePpb` per year, in wei, rounded to the
    /// cent, half to even.
    /// @param balance Outstanding balance, wei.
    /// @param ratePpb Annual rate, ppb.
    /// @return Interest due, wei (a whole number of cents).
    function couponDue(uint256 balance, uint256 ratePpb) internal pure returns (uint256) {
        return _roundCents(balance * ratePpb, 12 * PPB, 0);
    }

    /// @dev num / den wei rounded to a whole number of cents; at an exact half cent: mode 0 to
    /// even, 1 down, 2 up.
    function _roundCents(uint256 num, uint256 den, uint256 mode) private pure returns (uint256) {
        uint256 unit = den * CENT;
        uint256 q = num / unit;
        uint256 r2 = (num % unit) * 2;
        if (r2 > unit || (r2 == unit && (mode == 2 || (mode == 0 && q % 2 == 1)))) q += 1;
        return q * CENT;
    }

    function _ceilDiv(uint256 a, uint256 b) private pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }

    /// @dev Pays up to `due` from the interest proceeds, then, if `principalToo`, from the
    /// principal proceeds; returns what was paid.
    function _take(Cash memory cash, uint256 due, bool principalToo) private pure returns (uint256 paid) {
        uint256 a = due < cash.interest ? due : cash.interest;
        cash.interest -= a;
        paid = a;
        if (principalToo) {
            uint256 b = due - a < cash.principal ? due - a : cash.principal;
            cash.principal -= b;
            paid += b;
        }
    }
}
