//! `sol!` bindings generated at compile time from the checked-in forge artifacts in
//! `contracts-bindings/artifacts/` (ABI + creation bytecode): no forge, solc or network needed to
//! build. Each contract lives in its own module so that struct names cannot clash.
//!
//! Every binding has `new(address, provider)` for calls and `deploy(provider, ctor args…)` for
//! deployment (used by the integration tests). Amounts are in token wei (AID: 18 decimals), times
//! in unix seconds, ratios in basis points, exactly as in the Solidity sources.
#![allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]

/// `ValuationOracle`: EIP-712 quorum-signed valuation reports, Chainlink and Morpho views.
pub mod oracle {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        ValuationOracle,
        "artifacts/ValuationOracle.json"
    );
}

/// `SAID`: the ERC-4626 / ERC-7540 vault over AID whose NAV comes from the oracle.
pub mod said {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        SAID,
        "artifacts/SAID.json"
    );
}

/// `AID`: the ERC-20 + permit stable unit (18 decimals).
pub mod aid {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        AID,
        "artifacts/AID.json"
    );
}

/// `AIDMinter`: mints AID 1:1 against an accepted stablecoin.
pub mod aid_minter {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        AIDMinter,
        "artifacts/AIDMinter.json"
    );
}

/// `RevenueRouter`: the on-chain revenue split (lender, then revenue share, then operator).
pub mod revenue_router {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        RevenueRouter,
        "artifacts/RevenueRouter.json"
    );
}

/// `LendingMarket`: the example consumer lending AID against sAID at the oracle's price.
pub mod lending_market {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        LendingMarket,
        "artifacts/LendingMarket.json"
    );
}

/// `MorphoOracleAdapter`: the fail-closed Morpho Blue `IOracle` over a ValuationOracle (the
/// oracle's price while its report is fresh, reverting `OracleNotFresh` once stale).
pub mod morpho_oracle_adapter {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        MorphoOracleAdapter,
        "artifacts/MorphoOracleAdapter.json"
    );
}

/// `TestStablecoin`: a freely mintable ERC-20 with configurable decimals (tests only).
pub mod test_stablecoin {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        TestStablecoin,
        "artifacts/TestStablecoin.json"
    );
}

/// `TranchedPool`: one pool's tranche tokens and its on-chain waterfall (`PoolWaterfall`), run
/// per period by the servicer on the AID collected.
pub mod tranched_pool {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        TranchedPool,
        "artifacts/TranchedPool.json"
    );
}

/// `TrancheToken`: the ERC-20 of one tranche; holders claim the tranche's distributions (pull).
pub mod tranche_token {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        TrancheToken,
        "artifacts/TrancheToken.json"
    );
}

/// `TrancheOracle`: a `ValuationOracle` bound to one pool that also carries per-tranche prices
/// (`TranchePriceReport`, the second EIP-712 report type).
pub mod tranche_oracle {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        TrancheOracle,
        "artifacts/TrancheOracle.json"
    );
}
