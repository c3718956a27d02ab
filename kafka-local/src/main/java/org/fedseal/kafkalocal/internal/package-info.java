/** Code that runs inside the broker process. Not API. */
package org.fedseal.kafkalocal.internal;
