// The typed LuxSci API v2 client (issue 4) lands here; see docs/luxsci-contract.md.
export {};
