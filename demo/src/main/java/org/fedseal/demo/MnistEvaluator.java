package org.fedseal.demo;

import java.util.Map;
import org.fedseal.client.DjlTrainer;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.Mnist2500;
import org.fedseal.coordinator.ModelEvaluator;

/**
 * The demo's {@link ModelEvaluator}: accuracy of its MLP or LeNet-5 on the 500 held-out MNIST
 * digits. A key holder selects it with {@code --evaluator mnist}, and takes the options
 * {@code model=mlp|lenet} (default mlp) and {@code hidden=N} (the MLP's hidden width, default 128).
 */
public final class MnistEvaluator implements ModelEvaluator.Provider {
    /** The name {@code --evaluator} selects. */
    public static final String NAME = "mnist";

    /** For {@link java.util.ServiceLoader}. */
    public MnistEvaluator() {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ModelEvaluator create(Map<String, String> options) {
        for (String key : options.keySet()) {
            if (!key.equals("model") && !key.equals("hidden")) {
                throw new IllegalArgumentException(
                        "unknown option '" + key + "' of the mnist evaluator (known: model, hidden)");
            }
        }
        DemoMain.MnistModel kind = DemoMain.MnistModel.parse(options.getOrDefault("model", "mlp"));
        int hidden = Integer.parseInt(options.getOrDefault("hidden", "128"));
        LocalDataset test = Mnist2500.load().range(2000, 2500);
        DjlTrainer model = kind.trainer(test, hidden);
        return params -> model.accuracy(params, test);
    }
}
