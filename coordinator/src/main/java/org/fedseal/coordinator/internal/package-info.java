/** Internals of the coordinator services; other modules must not import them. */
package org.fedseal.coordinator.internal;
