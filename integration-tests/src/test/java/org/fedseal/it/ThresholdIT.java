package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.fedseal.client.BaseModel;
import org.fedseal.client.ClientConfig;
import org.fedseal.client.DjlTrainer;
import org.fedseal.client.FederatedClient;
import org.fedseal.client.KeyHolder;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.Mnist2500;
import org.fedseal.client.Partitioners;
import org.fedseal.client.ThresholdKeyHolder;
import org.fedseal.demo.FederatedDeployment;
import org.fedseal.demo.RegistryModelSource;
import org.fedseal.demo.RegistryUpdateArchive;
import org.fedseal.demo.RegistryVersionPublisher;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.hejava.threshold.CommonReference;
import org.fedseal.hejava.threshold.ThresholdKeys;
import org.fedseal.hejava.threshold.ThresholdParty;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RoundInfo;
import org.junit.jupiter.api.Test;

/**
 * The demo's training (10 DJL clients, non-IID MNIST, 5 rounds) through the real pipeline twice:
 * once with one key holder, once with three threshold key holders whose secret key is never
 * assembled. Each threshold holder re-sums the archived updates before sharing; the threshold run
 * must end within 0.5 percentage points of the single-key run.
 */
class ThresholdIT {
  static final int CLIENTS = 10;
  static final int ROUNDS = 5;

  @Test
  void thresholdTrainingMatchesSingleKeyTraining() throws Exception {
    FederatedDeployment d = SharedDeployment.get();
    RegistryClient admin = d.adminClient();

    // Single key holder.
    double single;
    try (HeContext he = HeContext.create(HeParameters.CKKS_8192); HeKeyPair keys = he.generateKeys();
        KeyHolder kh = KeyHolder.of(he, keys.secretKey())) {
      single = train(d, "it-single-key", HeParameters.CKKS_8192, keys.publicKey().toBytes(), kh::decryptMean);
    }

    // Three threshold key holders: a ceremony (in-process here), a collective public key.
    SecureRandom rnd = new SecureRandom();
    byte[] seed = CommonReference.deriveSeed("it-threshold-ceremony", List.of(rnd.generateSeed(32), rnd.generateSeed(32),
        rnd.generateSeed(32)));
    CommonReference crs = CommonReference.fromSeed(seed);
    List<ThresholdParty> parties = new ArrayList<>();
    List<byte[]> shares = new ArrayList<>();
    List<byte[]> digests = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ThresholdParty p = ThresholdParty.generate(crs, rnd);
      parties.add(p);
      shares.add(p.publicKeyShare());
      digests.add(p.keyShareDigest());
    }
    Map<String, SigningPublicKey> holderKeys = new HashMap<>();
    List<ThresholdKeyHolder> holders = new ArrayList<>();
    SigningPublicKey aggregatorKey = SigningPublicKey.fromX509(java.util.Base64.getDecoder().decode(
        d.registry().config().get(org.fedseal.registry.RegistryConfig.AGGREGATOR_PUBLIC_KEY)));
    RegistryUpdateArchive archive = new RegistryUpdateArchive(RegistryClient.create(d.registry().uri()), Duration.ofSeconds(30));
    for (int i = 0; i < 3; i++) {
      SigningKeyPair id = SigningKeyPair.generate();
      holderKeys.put("holder-" + i, id.publicKey());
      holders.add(new ThresholdKeyHolder("holder-" + i, parties.get(i), id.privateKey(),
          new ThresholdKeyHolder.Policy(CLIENTS, aggregatorKey, c -> enrolled(admin, c)), archive));
    }
    Function<AggregatePublished, double[]> thresholdMean = agg -> {
      List<ThresholdKeyHolder.SignedShares> signed = new ArrayList<>();
      for (ThresholdKeyHolder h : holders) {
        try {
          signed.add(h.share(agg));
        } catch (ThresholdKeyHolder.RefusedException e) {
          throw new AssertionError("an honest aggregate was refused: " + e.getMessage(), e);
        }
      }
      int length = (int) agg.getChunkSums().stream().mapToLong(c -> c.getCiphertexts().size()).sum() * 8192;
      return ThresholdKeyHolder.combine(agg, signed, holderKeys, digests, length);
    };
    double threshold = train(d, "it-threshold", HeParameters.CKKS_8192_T50,
        ThresholdKeys.combinePublicKey(crs, shares), thresholdMean);
    parties.forEach(ThresholdParty::destroy);

    System.out.printf("final accuracy: single key %.4f, threshold 3-of-3 %.4f%n", single, threshold);
    assertTrue(single > 0.75, "single-key training learns: " + single);
    assertTrue(Math.abs(single - threshold) <= 0.005, "threshold " + threshold + " vs single key " + single);
  }

  static boolean enrolled(RegistryClient admin, String clientId) {
    try {
      admin.clientKey(clientId);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** Five rounds of the demo's training on {@code modelId}; returns the final test accuracy. */
  static double train(FederatedDeployment d, String modelId, HeParameters params, byte[] publicKey,
      Function<AggregatePublished, double[]> meanOf) throws Exception {
    RegistryClient admin = d.adminClient();
    LocalDataset all = Mnist2500.load();
    LocalDataset train = all.range(0, 2000);
    LocalDataset test = all.range(2000, 2500);
    List<int[]> parts = Partitioners.dirichlet(0.5, 7).partition(train.labels(), CLIENTS);
    DjlTrainer evaluator = DjlTrainer.builder().block(DjlTrainer.mlp(784, 10, 128)).dataset(test).build();
    float[] params0 = evaluator.initialParameters(42);
    SigningKeyPair combiner = SigningKeyPair.generate();
    admin.registerModel(modelId, "MLP 784-128-10", params.id(), ModelWeights.encode(params0), modelId + "-combiner");
    admin.putHePublicKey(modelId, publicKey);
    admin.enrollClient(modelId + "-combiner", combiner.publicKey(), List.of(modelId));
    List<FederatedClient> fleet = new ArrayList<>();
    try {
      for (int c = 0; c < CLIENTS; c++) {
        SigningKeyPair id = SigningKeyPair.generate();
        String clientId = modelId + "-c" + c;
        admin.enrollClient(clientId, id.publicKey(), List.of(modelId));
        fleet.add(FederatedClient.builder(Map.of(ClientConfig.BOOTSTRAP_SERVERS, d.bootstrapServers(),
                ClientConfig.CLIENT_ID, clientId, ClientConfig.MODEL_IDS, modelId,
                ClientConfig.CLIP_L2_BOUND, "10", ClientConfig.MAX_TOTAL_WEIGHT, "20000"))
            .trainer(DjlTrainer.builder().block(DjlTrainer.mlp(784, 10, 128)).dataset(train.subset(parts.get(c)))
                .learningRate(0.1f).batchSize(32).build())
            .modelSource(new RegistryModelSource(RegistryClient.create(d.registry().uri())))
            .signingKey(id.privateKey()).build());
      }
      RegistryModelSource source = new RegistryModelSource(admin);
      RegistryVersionPublisher publisher = new RegistryVersionPublisher(admin, modelId + "-combiner", combiner.privateKey(), null);
      double accuracy = Double.NaN;
      for (int r = 1; r <= ROUNDS; r++) {
        RoundInfo info = admin.openRound(modelId, CLIENTS, Duration.ofMinutes(3), 3, 6);
        RoundOpened round = awaitRound(d, modelId, info.round());
        for (FederatedClient c : fleet) {
          c.participate(round);
        }
        AggregatePublished agg = awaitAggregate(d, modelId, info.round());
        BaseModel base = source.baseModel(modelId, Hash.of(round.getBaseModelHash()));
        double[] mean = meanOf.apply(agg);
        float[] next = base.parameters().clone();
        for (int i = 0; i < next.length; i++) {
          next[i] += (float) mean[i];
        }
        publisher.publish(base, agg, next);
        accuracy = evaluator.accuracy(next, test);
        System.out.printf("%s round %d: accuracy %.4f%n", modelId, info.round(), accuracy);
      }
      assertEquals(ROUNDS + 1, admin.versions(modelId).size());
      return accuracy;
    } finally {
      for (FederatedClient c : fleet) {
        c.close(Duration.ofSeconds(5));
      }
    }
  }

  static RoundOpened awaitRound(FederatedDeployment d, String modelId, int round) {
    return Topic.await(d, org.fedseal.protocol.Topics.ROUNDS, RoundOpened.class,
        o -> o.getModelId().equals(modelId) && o.getRound() == round);
  }

  static AggregatePublished awaitAggregate(FederatedDeployment d, String modelId, int round) {
    return Topic.await(d, org.fedseal.protocol.Topics.AGGREGATES, AggregatePublished.class,
        a -> a.getModelId().equals(modelId) && a.getRound() == round);
  }
}
