/**
 * FedSeal's server-side roles of a round, beside the aggregator and the registry: the key holder
 * ({@link org.fedseal.coordinator.KeyHolder}, the only holder of a model's HE secret key, and its
 * process {@link org.fedseal.coordinator.KeyHolderMain}), the threshold key holders
 * ({@link org.fedseal.coordinator.KeyCeremonyParticipant},
 * {@link org.fedseal.coordinator.ThresholdKeyHolder}) and the combiner that turns their decryption
 * shares into model versions ({@link org.fedseal.coordinator.Combiner},
 * {@link org.fedseal.coordinator.CombinerMain}); the registry-backed sources and sinks they use
 * ({@link org.fedseal.coordinator.RegistryModelSource},
 * {@link org.fedseal.coordinator.RegistryVersionPublisher},
 * {@link org.fedseal.coordinator.RegistryUpdateArchive}); the topics a deployment creates
 * ({@link org.fedseal.coordinator.FedsealTopics}); and the in-JVM
 * {@link org.fedseal.coordinator.Simulation} of clients, aggregation and key holder together.
 *
 * <p>Internals live in {@code org.fedseal.coordinator.internal}; other modules must not import them.
 */
package org.fedseal.coordinator;
