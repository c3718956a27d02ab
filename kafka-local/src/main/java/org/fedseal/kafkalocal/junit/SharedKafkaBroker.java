package org.fedseal.kafkalocal.junit;

import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension giving every test class of a test JVM the same {@link LocalKafkaBroker}, started
 * lazily by the first class that needs it.
 *
 * <pre>{@code
 * @ExtendWith(SharedKafkaBroker.class)
 * class MyTest {
 *     @Test
 *     void sends(LocalKafkaBroker kafka) {           // injected; or SharedKafkaBroker.get()
 *         kafka.createTopics(Map.of("my-test-topic", 2));
 *         ... kafka.bootstrapServers() ...
 *     }
 * }
 * }</pre>
 *
 * <p>The broker is stopped when the JUnit run ends (it is registered in the root
 * {@link ExtensionContext.Store}) and, failing that, by {@link LocalKafkaBroker}'s JVM shutdown hook.
 * Test classes share the broker, so they should use their own topic names (and group/transactional ids).
 * {@link #get()} also works without the extension, e.g. from a static initializer.
 */
public final class SharedKafkaBroker implements BeforeAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(SharedKafkaBroker.class);

    private static LocalKafkaBroker broker;

    /** Creates the extension; JUnit calls this. */
    public SharedKafkaBroker() {}

    /**
     * Returns this JVM's shared broker, starting it on first use (or again if it was stopped).
     *
     * @return the running shared broker
     */
    public static synchronized LocalKafkaBroker get() {
        if (broker == null || !broker.isRunning()) {
            if (broker != null) {
                broker.close();
            }
            broker = LocalKafkaBroker.builder().start();
        }
        return broker;
    }

    private static synchronized void stop() {
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }

    /**
     * Starts (or reuses) the shared broker and arranges for it to stop at the end of the JUnit run.
     *
     * @param context the test class's context
     */
    @Override
    public void beforeAll(ExtensionContext context) {
        get();
        context.getRoot()
                .getStore(NAMESPACE)
                .getOrComputeIfAbsent(StopAtEnd.class, k -> new StopAtEnd(), StopAtEnd.class);
    }

    /**
     * Supports parameters of type {@link LocalKafkaBroker}.
     *
     * @param parameterContext the parameter
     * @param extensionContext the context
     * @return whether the parameter is a {@link LocalKafkaBroker}
     */
    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == LocalKafkaBroker.class;
    }

    /**
     * Injects the shared broker.
     *
     * @param parameterContext the parameter
     * @param extensionContext the context
     * @return the shared broker
     */
    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return get();
    }

    /** Closed by JUnit with the root store, i.e. after the last test of the run. */
    private static final class StopAtEnd implements AutoCloseable {
        @Override
        public void close() {
            stop();
        }
    }
}
