/** The {@code fedseal} command-line tool ({@link org.fedseal.registry.cli.FedsealCli}). */
package org.fedseal.registry.cli;
