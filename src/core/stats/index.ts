export { CountWindow, HistogramWindow, HISTOGRAM_BUCKETS, bucketLowest, bucketOf, type HistogramSummary } from './window.js';
