/**
 * The FedSeal model registry: {@link org.fedseal.registry.RegistryServer} (the HTTP service) and
 * {@link org.fedseal.registry.RegistryClient} (its typed Java client), with their data types.
 * Internals live in {@code org.fedseal.registry.internal}; the {@code fedseal} CLI in
 * {@code org.fedseal.registry.cli}.
 */
package org.fedseal.registry;
