/** Not API. */
package org.fedseal.aggregator.internal;
