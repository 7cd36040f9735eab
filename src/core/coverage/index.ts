// Coverage plans: which vnodes answer a query over every key.
export { coveragePlan, keyspaceOf, keyspacesHeld, type CoveragePlan, type CoveragePlanOptions, type CoverageVnode } from './plan.js';
