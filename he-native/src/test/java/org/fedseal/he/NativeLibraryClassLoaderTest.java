package org.fedseal.he;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/**
 * The JNI library works from several class loaders of one JVM, as in a Flink TaskManager, where
 * every job and every restart of a job has a user-code class loader of its own: each loader
 * loads its own copy of the library (a library file is bound to one class loader per JVM).
 */
class NativeLibraryClassLoaderTest {
    @Test
    void eachClassLoaderLoadsItsOwnCopyAndWorks() throws Exception {
        // he-native's classes and this test's classes, child-first: not delegated to the test's loader.
        URL main = HeContext.class.getProtectionDomain().getCodeSource().getLocation();
        URL test = LoaderProbe.class.getProtectionDomain().getCodeSource().getLocation();
        assertTrue(new LoaderProbe().getAsDouble() < 1e-6, "the test's own class loader");
        for (int i = 0; i < 3; i++) {
            try (URLClassLoader loader =
                    new URLClassLoader("job-" + i, new URL[] {main, test}, ClassLoader.getPlatformClassLoader())) {
                Class<?> probe = loader.loadClass(LoaderProbe.class.getName());
                assertNotSame(LoaderProbe.class, probe);
                double error = ((DoubleSupplier) probe.getConstructor().newInstance()).getAsDouble();
                assertTrue(error < 1e-6, "class loader " + i + ": error " + error);
            }
        }
    }
}
