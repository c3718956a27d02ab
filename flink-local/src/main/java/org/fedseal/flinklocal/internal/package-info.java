/** Not API: the entry point wrapped around Flink's in each Flink JVM. */
package org.fedseal.flinklocal.internal;
