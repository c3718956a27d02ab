/**
 * FedSeal client SDK: local training, clipped and weighted deltas, CKKS encryption, chunking,
 * signing and Kafka submission of federated-learning updates: what runs on a client. The server-side
 * roles (key holders, combiner) and the in-JVM simulation of a whole federation are in the
 * {@code coordinator} module ({@code org.fedseal.coordinator}).
 *
 * <p>Extension points are interfaces so that an Android client can swap the native parts:
 * {@link org.fedseal.client.LocalTrainer} (DJL: {@link org.fedseal.client.DjlTrainer}),
 * {@link org.fedseal.client.UpdateEncryptor} (SEAL: {@link org.fedseal.client.SealUpdateEncryptor}),
 * and {@link org.fedseal.client.ModelSource} (registry; in memory: {@link org.fedseal.client.InMemoryModelSource}).
 *
 * <p>A complete round in one JVM (runnable with {@code dl4j-test-resources} on the class path and
 * {@code -Dai.djl.offline=true}; replace the {@code MockProducer} with a {@code bootstrap.servers}
 * entry to send to a real broker):
 *
 * <pre>{@code
 * LocalDataset data = Mnist2500.load().range(0, 400);
 * try (HeContext he = HeContext.create(HeParameters.CKKS_8192);
 *      HeKeyPair keys = he.generateKeys();
 *      SealUpdateEncryptor encryptor = SealUpdateEncryptor.of(he, keys.publicKey());
 *      DjlTrainer trainer = DjlTrainer.builder().block(DjlTrainer.mlp(784, 10, 128)).dataset(data).build()) {
 *   BaseModel base = BaseModel.initial("mnist-mlp", trainer.initialParameters(42), System.currentTimeMillis());
 *   RoundOpened round = RoundOpened.newBuilder()
 *       .setModelId("mnist-mlp").setRound(1)
 *       .setBaseModelHash(base.versionHash().toByteBuffer())
 *       .setHeParamsId(encryptor.heParamsId())
 *       .setPublicKeyHash(encryptor.publicKeyHash().toByteBuffer())
 *       .setQuorum(1).setDeadlineEpochMillis(System.currentTimeMillis() + 60_000)
 *       .setChunkLayout(SealUpdateEncryptor.defaultLayout(HeParameters.CKKS_8192, trainer.parameterCount()))
 *       .setLocalEpochs(1).setOpenedAtEpochMillis(System.currentTimeMillis())
 *       // clip norm 5, at most 1,000 samples per update and 6,000 per round: 5 x 6,000 fits the headroom
 *       .setClipNorm(5.0).setMaxUpdateWeight(1_000).setMaxTotalWeight(6_000)
 *       .setSumNormBound(HeParameters.CKKS_8192.maxSumNorm()).build();
 *
 *   Map<String, Object> config = Map.of(
 *       ClientConfig.CLIENT_ID, "phone-17",
 *       ClientConfig.NOISE_MULTIPLIER, 0.0);      // local DP off; the clip norm is the round's
 *   MockProducer<byte[], byte[]> kafka =
 *       new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
 *   try (FederatedClient client = FederatedClient.builder(config)
 *           .trainer(trainer).encryptor(encryptor)
 *           .signingKey(SigningKeyPair.generate().privateKey())
 *           .producer(kafka).build()) {
 *     LocalUpdate update = client.trainOnce(round, base);      // checks the base hash, trains
 *     SubmissionReceipt receipt = client.submit(round, update); // clip, weight, encrypt, chunk, sign, send
 *     System.out.println(receipt.chunkCount() + " chunks + commit, update " + receipt.updateId());
 *   } catch (SubmissionException e) {
 *     System.err.println("not sent: " + e.reason());
 *   }
 * }
 * }</pre>
 *
 * <p>Internals live in {@code org.fedseal.client.internal}; other modules must not import them.
 */
package org.fedseal.client;
