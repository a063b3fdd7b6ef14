// LeNet on Fashion-MNIST: the seed notebook's CNN experiment in C++.
//   conv 20@5x5 tanh (same) -> maxpool 2 -> conv 50@5x5 tanh (same) -> maxpool 2 -> flatten
//   -> dense 500 tanh -> dense 10 softmax     (1,256,080 parameters)
// Shows the data, the model, the training, and the result: confusion matrix, per-class scores,
// the most confused pairs, pictures and a CSV history in --out-dir. Built with MPI,
// `mpirun -np 2 lenet` trains data-parallel over the ranks (docs/distributed.md).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "command_line.hpp"
#include "processes.hpp"
#include "run_stats.hpp"
#include "loom/loom.hpp"
#include "loom/viz/confusion_heatmap.hpp"
#include "loom/viz/image_grid.hpp"
#include "loom/viz/svg_chart.hpp"

namespace {

using examples::Clock;
using examples::peak_rss_mb;
using examples::seconds_since;

void write_curves(const std::filesystem::path& dir, const loom::History& h) {
    loom::LineChart loss("LeNet on Fashion-MNIST: loss", "epoch", "cross-entropy");
    loss.add("training", h.loss);
    loom::LineChart accuracy("LeNet on Fashion-MNIST: accuracy", "epoch", "accuracy");
    accuracy.add("training", h.accuracy);
    if (h.has_validation()) {
        loss.add("test (validation)", h.val_loss, true);
        accuracy.add("test (validation)", h.val_accuracy, true);
    }
    loss.write(dir / "loss.svg");
    accuracy.write(dir / "accuracy.svg");
}

}  // namespace

int main(int argc, char** argv) try {
    const auto start = Clock::now();
    examples::Processes processes(argc, argv);
    examples::CommandLine cli(argc, argv, "LeNet on Fashion-MNIST (the seed notebook's CNN experiment)");
    // Quick mode takes batches of 32: one epoch of 5,000 images in batches of 128 is only 40 updates,
    // too few to test that the model learns with a margin over --min-accuracy.
    const bool quick = cli.flag("quick", "quick check: 5,000 training images, 1 epoch, batch 32 (part of the test suite)");
    const auto epochs = cli.integer("epochs", quick ? 1 : 10, "training epochs");
    const auto batch_size = cli.integer("batch-size", quick ? 32 : 128, "minibatch size");
    const std::string optimizer = cli.text("optimizer", "adam", "adam, or sgd (with momentum 0.9)");
    const double lr = cli.real("lr", 0, "learning rate (default: 1e-3 for adam, 0.01 for sgd)");
    const std::string schedule = cli.text("schedule", "cosine", "cosine (decay to 0 over the run) or constant");
    const auto threads = cli.integer("threads", 0, "threads for loom's kernels (0: OpenMP's default)");
    const auto seed = cli.integer("seed", 42, "seed for weight initialisation and shuffling");
    const auto train_size = cli.integer("train-size", quick ? 5000 : 60000, "training images to use (the first N)");
    const std::string data_dir = cli.text("data-dir", std::string(loom::fashion_mnist::default_dir),
                                          "folder with the Fashion-MNIST .gz files");
    const std::filesystem::path out_dir = cli.text("out-dir", "lenet-out", "where the model, pictures and CSV go");
    const double min_accuracy = cli.real("min-accuracy", 0, "exit with status 1 below this test accuracy");
    if (!cli.finish()) return 0;
    loom::require<loom::ArgumentError>(epochs >= 1 && batch_size >= 1 && train_size >= 1 && threads >= 0,
                                       "--epochs, --batch-size and --train-size must be positive");
    if (threads > 0) loom::set_num_threads(static_cast<int>(threads));
    std::filesystem::create_directories(out_dir);
    const auto names = std::span<const std::string_view>(loom::fashion_mnist::class_names);

    // The data, as bytes: each batch becomes floats (pixel * 1/255, the values of fashion_mnist::load)
    // as it is gathered, so the 60,000 training images take 47 MB instead of 188 MB.
    auto t = Clock::now();
    const auto train = loom::fashion_mnist::load_bytes(data_dir, loom::fashion_mnist::Split::train,
                                                       static_cast<std::size_t>(train_size));
    const auto test = loom::fashion_mnist::load_bytes(data_dir, loom::fashion_mnist::Split::test);
    std::cout << "Fashion-MNIST: " << train.size() << " training and " << test.size() << " test images loaded in "
              << std::fixed << std::setprecision(2) << seconds_since(t) << " s\n";
    if (processes.primary())
        loom::write_image_grid(out_dir / "samples.png", train.images_as(0, 40), std::span<const int>(train.labels).first(40),
                               names);
    std::cout << "Sample images: " << (out_dir / "samples.png").string() << "\n\n";

    // The model, trained and saved in its own scope, so that its buffers are gone before the saved
    // file is loaded into a second model: one model at a time in memory.
    const auto train_targets = loom::one_hot<float>(train.labels, 10);
    const auto test_targets = loom::one_hot<float>(test.labels, 10);
    const auto model_path = out_dir / "lenet.loom";
    loom::History history;
    loom::Tensor<float> trained_probabilities;
    {
        auto net = loom::lenet<float>(static_cast<std::uint64_t>(seed));
        net.summary(std::cout);
        loom::require<loom::ArgumentError>(optimizer == "adam" || optimizer == "sgd",
                                           "--optimizer must be adam or sgd, got '", optimizer, "'");
        loom::require<loom::ArgumentError>(schedule == "cosine" || schedule == "constant",
                                           "--schedule must be cosine or constant, got '", schedule, "'");
        const double initial_rate = lr > 0 ? lr : optimizer == "adam" ? 1e-3 : 0.01;
        const std::size_t batch = std::min(train.size(), static_cast<std::size_t>(batch_size));
        const auto updates = static_cast<std::uint64_t>(epochs) * ((train.size() + batch - 1) / batch);
        const loom::LearningRate rate = schedule == "cosine" ? loom::LearningRate(loom::CosineDecay(initial_rate, updates))
                                                             : loom::LearningRate(initial_rate);
        if (optimizer == "adam") net.compile(loom::CrossEntropy{}, loom::Adam(rate));
        else net.compile(loom::CrossEntropy{}, loom::SGD(rate, 0.9));

        // The training; the test set is the validation data, as in the notebook.
        loom::FitOptions options;
        options.epochs = static_cast<std::size_t>(epochs);
        options.batch_size = static_cast<std::size_t>(batch_size);
        options.seed = static_cast<std::uint64_t>(seed);
        std::cout << "\nTraining on " << train.size() << " images, batch " << batch_size << ", " << optimizer
                  << " with learning rate " << std::defaultfloat << initial_rate << std::fixed
                  << (schedule == "cosine" ? " decaying to 0 along a cosine" : "") << ", " << loom::num_threads()
                  << " thread(s)" << (processes.size() > 1 ? " per rank, " + processes.describe() : "") << "\n";
        t = Clock::now();
        // Callbacks, as a Keras user would add them: the history as CSV and the model after every epoch,
        // so that a long run stopped early leaves its latest state. Not the best epoch's model
        // (save_best_only): the validation data here is the test set, which must not choose a model.
        // Under MPI only rank 0 writes (the callbacks ask TrainingControl::is_primary).
        history = processes.fit(net, train.samples(), train_targets.view(),
                                 loom::ValidationData<float>{test.samples(), test_targets}, options,
                                 {loom::CSVLogger(out_dir / "history.csv"), loom::ModelCheckpoint(model_path)});
        const double train_seconds = seconds_since(t);
        std::cout << "Training time: " << std::setprecision(1) << train_seconds << " s ("
                  << train_seconds / double(epochs) << " s per epoch), peak memory so far " << std::setprecision(0)
                  << peak_rss_mb() << " MiB\n";
        if (!processes.primary()) return 0;  // rank 0 reloads and reports
        trained_probabilities = net.predict(test.samples(), options.batch_size);
    }

    // Load the saved model back and predict with it.
    auto loaded = loom::Sequential<float>::load(model_path);
    t = Clock::now();
    const auto probabilities = loaded.predict(test.samples(), static_cast<std::size_t>(batch_size));
    const double predict_seconds = seconds_since(t);
    const bool identical = probabilities == trained_probabilities;
    std::cout << "\nModel saved to " << model_path.string() << " and loaded back: predictions "
              << (identical ? "identical" : "DIFFER") << "\n";
    std::cout << "Inference on " << test.size() << " test images: " << std::setprecision(3) << predict_seconds << " s\n";

    std::cout << "\nFirst rows of predicted probabilities:\n" << std::setprecision(3) << std::right;
    for (std::size_t c = 0; c < 10; ++c) std::cout << std::setw(9) << loom::ConfusionMatrix::abbreviate(names[c], 8);
    std::cout << "   true class\n";
    for (std::size_t i = 0; i < 5; ++i) {
        for (std::size_t c = 0; c < 10; ++c) std::cout << std::setw(9) << probabilities(i, c);
        std::cout << "   " << names[static_cast<std::size_t>(test.labels[i])] << '\n';
    }

    // The result.
    const auto predicted = loom::argmax_rows(probabilities);
    const loom::ConfusionMatrix confusion(test.labels, predicted, 10);
    std::cout << "\nConfusion matrix (rows: true class, columns: predicted)\n";
    confusion.print(std::cout, names);
    std::cout << '\n';
    confusion.print_report(std::cout, names);
    std::cout << "\nMost confused pairs:\n";
    for (const auto& c : confusion.most_confused(5))
        std::cout << "  " << std::right << std::setw(12) << names[static_cast<std::size_t>(c.truth)] << " taken for "
                  << std::setw(12) << std::left << names[static_cast<std::size_t>(c.predicted)] << std::right
                  << std::setw(5) << c.count << " times\n";

    write_curves(out_dir, history);
    loom::write_confusion_heatmap(out_dir / "confusion.svg", confusion, names);
    std::cout << "\nWrote " << (out_dir / "loss.svg").string() << ", accuracy.svg, confusion.svg, history.csv\n";
    std::cout << "\nTest accuracy: " << std::setprecision(4) << confusion.accuracy() << "   (notebook: 0.8988)\n";
    std::cout << "Total time: " << std::setprecision(1) << seconds_since(start) << " s, peak memory "
              << std::setprecision(0) << peak_rss_mb() << " MiB\n";
    if (!identical) return 1;
    if (confusion.accuracy() < min_accuracy) {
        std::cerr << "test accuracy " << confusion.accuracy() << " is below --min-accuracy " << min_accuracy << '\n';
        return 1;
    }
    return 0;
} catch (const loom::Error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
