/**
 * FedSeal aggregator: the Flink job ({@link org.fedseal.aggregator.AggregatorJob}), its configuration
 * ({@link org.fedseal.aggregator.AggregatorConfig}) and the in-process runner
 * ({@link org.fedseal.aggregator.LocalAggregator}). Everything in {@code internal} is not API.
 */
package org.fedseal.aggregator;
