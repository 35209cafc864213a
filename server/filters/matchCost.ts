// The matchers count their work here, so that tests can assert a bound on it
// (tests/matchingCost.test.ts) without timing anything. Each call adds its
// total once, at its end: the count costs one addition per call, not per step.

/**
 * Steps the filter matchers have taken since the process started. A step is
 * one constant-time unit: one 32-bit word of automaton state updated for one
 * segment or one character, or one character compared by a direct test.
 */
export const matchCost = { steps: 0 };
