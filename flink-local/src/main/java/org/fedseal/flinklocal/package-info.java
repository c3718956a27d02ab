/**
 * A stock Apache Flink standalone session cluster on 127.0.0.1, each process its own JVM, started
 * from a Flink distribution directory as Flink's {@code bin/} scripts start it; jobs are submitted
 * with Flink's CLI front end. Start with {@link org.fedseal.flinklocal.LocalFlinkCluster}.
 */
package org.fedseal.flinklocal;
