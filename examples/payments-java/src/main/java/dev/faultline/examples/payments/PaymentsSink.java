package dev.faultline.examples.payments;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * payments-sink: payment events from Kafka into Postgres, effectively once.
 *
 * <p>Per batch: invalid records go to the dead-letter topic (flushed), then one Postgres transaction
 * with idempotent writes, then the batch's offsets are committed to Kafka. A crash anywhere
 * redelivers the batch, and writing it again changes nothing.
 */
public final class PaymentsSink implements ConsumerRebalanceListener {
    static final String REASON_HEADER = "payments.dlq.reason";
    static final String TOPIC_HEADER = "payments.dlq.source-topic";
    static final String PARTITION_HEADER = "payments.dlq.source-partition";
    static final String OFFSET_HEADER = "payments.dlq.source-offset";

    private final Config cfg;
    private final Store store;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<byte[], byte[]> producer;
    private final AtomicReference<Exception> dlqError = new AtomicReference<>();
    private List<ConsumerRecord<byte[], byte[]>> pending = new ArrayList<>();
    private volatile boolean stopping;
    private boolean ready;

    private PaymentsSink(Config cfg, Store store) {
        this.cfg = cfg;
        this.store = store;
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cfg.bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, cfg.group);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "payments-sink-" + cfg.worker);
        c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(Math.min(cfg.batchRecords, 1_000)));
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Integer.toString(cfg.sessionTimeoutMs));
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Integer.toString(Math.min(3_000, cfg.sessionTimeoutMs / 3)));
        consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cfg.bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "payments-sink-" + cfg.worker + "-dlq");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        // An oversized record (over 64 KiB) is dead-lettered whole.
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(1024 * 1024));
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    public static void main(String[] args) {
        // kafka-clients logs through slf4j-simple: its warnings and errors only, on stderr.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        Config cfg;
        try {
            cfg = new Config(System.getenv());
        } catch (Config.Problem e) {
            System.err.println("payments-sink: config error: " + e.getMessage());
            System.exit(2);
            return;
        }
        Log.worker(cfg.worker);
        if (!cfg.bug.isEmpty()) {
            Log.warn("planted bug " + cfg.bug + " is enabled");
        }
        System.exit(run(cfg));
    }

    private static int run(Config cfg) {
        Store store = new Store(cfg);
        try {
            store.open();
        } catch (Config.Problem e) {
            System.err.println("payments-sink: config error: " + e.getMessage());
            return 2;
        } catch (SQLException e) {
            Log.error("cannot connect to postgres at " + cfg.jdbcUrl() + ": " + e.getMessage());
            return 1;
        }
        PaymentsSink sink = new PaymentsSink(cfg, store);
        CountDownLatch finished = new CountDownLatch(1);
        Thread main = Thread.currentThread();
        // SIGTERM/SIGINT: finish the batch in hand, commit it, leave the group, then exit 0.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (finished.getCount() == 0) {
                return;
            }
            Log.info("stop requested: finishing the batch");
            sink.stopping = true;
            try {
                if (finished.await(30, TimeUnit.SECONDS)) {
                    Runtime.getRuntime().halt(0);
                }
                Log.warn("the batch did not finish in 30 s; exiting without it");
            } catch (InterruptedException e) {
                main.interrupt();
            }
        }, "payments-sink-stop"));
        int code;
        try {
            sink.loop();
            Log.info("stopped: last batch written and committed");
            code = 0;
        } catch (Exception e) {
            Log.error("failed: " + e);
            e.printStackTrace();
            code = 1;
        } finally {
            sink.close();
        }
        finished.countDown();
        return code;
    }

    private void loop() throws Exception {
        consumer.subscribe(List.of(cfg.topic), this);
        while (!stopping) {
            fill();
            flush();
        }
    }

    /** Polls until the batch is full, its linger has passed since its first record, or a stop. */
    private void fill() {
        long deadline = 0;
        boolean lingering = false;
        while (pending.size() < cfg.batchRecords && !stopping) {
            long now = System.nanoTime();
            if (lingering && now >= deadline) {
                return;
            }
            long waitMs = lingering ? Math.max(1, Math.min(100, (deadline - now) / 1_000_000)) : 100;
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(waitMs))) {
                pending.add(r);
            }
            if (!ready) {
                ready = true;
                Log.info("payments-sink ready (group " + cfg.group + ", topic " + cfg.topic + ")");
            }
            if (!pending.isEmpty() && !lingering) {
                lingering = true;
                deadline = System.nanoTime() + cfg.lingerMs * 1_000_000L;
            }
        }
    }

    /** Lands the pending records: dead letters, then one transaction, then the offsets. */
    private void flush() throws Exception {
        List<ConsumerRecord<byte[], byte[]>> batch = pending;
        pending = new ArrayList<>();
        if (batch.isEmpty()) {
            return;
        }
        List<Store.Row> valid = new ArrayList<>(batch.size());
        int dead = 0;
        Map<TopicPartition, OffsetAndMetadata> offsets = new TreeMap<>((a, b) -> {
            int c = a.topic().compareTo(b.topic());
            return c != 0 ? c : Integer.compare(a.partition(), b.partition());
        });
        for (ConsumerRecord<byte[], byte[]> r : batch) {
            Payment.Checked checked = Payment.check(r.key(), r.value());
            if (checked.payment() == null) {
                deadLetter(r, checked.reason());
                dead++;
            } else {
                valid.add(new Store.Row(checked.payment(), r.partition(), r.offset()));
            }
            offsets.merge(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1),
                    (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        if (dead > 0) {
            // Durable before the offsets that pass over these records are committed.
            producer.flush();
            Exception e = dlqError.getAndSet(null);
            if (e != null) {
                throw new IllegalStateException("dead-letter delivery failed", e);
            }
        }
        if (cfg.bug("commit-before-db")) {
            commit(offsets); // BUG: a crash before the transaction commits loses the batch
        }
        store.write(valid);
        if (!cfg.bug("commit-before-db")) {
            commit(offsets);
        }
    }

    private void deadLetter(ConsumerRecord<byte[], byte[]> r, String reason) {
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(cfg.dlqTopic, null, r.key(), r.value());
        out.headers().add(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8));
        out.headers().add(TOPIC_HEADER, r.topic().getBytes(StandardCharsets.UTF_8));
        out.headers().add(PARTITION_HEADER, Integer.toString(r.partition()).getBytes(StandardCharsets.UTF_8));
        out.headers().add(OFFSET_HEADER, Long.toString(r.offset()).getBytes(StandardCharsets.UTF_8));
        producer.send(out, (meta, err) -> {
            if (err != null) {
                dlqError.compareAndSet(null, err);
            }
        });
    }

    private void commit(Map<TopicPartition, OffsetAndMetadata> offsets) {
        try {
            consumer.commitSync(offsets);
        } catch (CommitFailedException | RebalanceInProgressException e) {
            // The partitions moved on (a rebalance, or this worker was paused past its session): the
            // batch is in Postgres already, so the new owner's redelivery of it is harmless.
            Log.warn("offset commit skipped (" + e.getClass().getSimpleName() + "): the new owner redelivers");
        }
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        Log.info("assigned " + names(partitions));
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        // Still ours until this returns: land and commit what is pending. An exception here comes
        // back out of poll() and stops the worker without committing.
        Log.info("revoked " + names(partitions));
        try {
            flush();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("flushing the batch on revocation failed", e);
        }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
        // Already someone else's: drop their pending records uncommitted, the new owner redelivers.
        Set<TopicPartition> gone = Set.copyOf(partitions);
        int before = pending.size();
        pending.removeIf(r -> gone.contains(new TopicPartition(r.topic(), r.partition())));
        Log.warn("lost " + names(partitions) + "; dropped " + (before - pending.size()) + " pending records");
    }

    private static String names(Collection<TopicPartition> partitions) {
        return partitions.stream().map(tp -> Integer.toString(tp.partition())).sorted().collect(Collectors.joining(",", "[", "]"));
    }

    private void close() {
        try {
            consumer.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            Log.warn("closing the consumer: " + e);
        }
        try {
            producer.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            Log.warn("closing the producer: " + e);
        }
        store.close();
    }
}
