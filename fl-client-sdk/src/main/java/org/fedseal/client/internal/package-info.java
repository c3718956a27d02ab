/** Implementation details of the client SDK (DJL plumbing, Kafka sending). Not public API. */
package org.fedseal.client.internal;
