/** Registry internals (storage, log, HTTP routing, Kafka, audit); not a public API. */
package org.fedseal.registry.internal;
