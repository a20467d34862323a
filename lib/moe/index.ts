// Mixture-of-Experts (routers, experts, dispatch, balance) — public API of this area (filled in by its issue).
export {};
