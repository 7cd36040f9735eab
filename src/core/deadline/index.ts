// Deadlines: many timeouts on one Env timer.
export { DeadlineTable, HEAP_SLACK_FACTOR, HEAP_SLACK_MIN, type DeadlineId } from './deadline-table.js';
