// The nnet experiment: the seed notebook's R nnet + caret run, reproduced with loom.
//   784-50-10 MLP, logistic hidden units, softmax outputs, weights and biases uniform(-0.7, 0.7);
//   criterion = summed cross-entropy + decay * sum of squares of all 39,760 parameters, minimised
//   full-batch by quasi-Newton (L-BFGS here, nnet's BFGS there), maxit 300, abstol 1e-4, reltol 1e-8.
// --mode single: one fit on the training images at one decay (default 0.5).
// --mode cv: caret's trainControl(method = "repeatedcv", number = 5, repeats = 1) over
//   decay = 10^seq(-3, 0, by = 0.25), best decay by accuracy, refit on all training images, test.
// Built with MPI, `mpirun -np 2 nnet --mode cv` spreads the fits over the ranks (docs/distributed.md).
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "processes.hpp"
#include "run_stats.hpp"
#include "loom/loom.hpp"
#include "loom/data/kfold.hpp"
#include "loom/model/cross_validation.hpp"
#include "loom/model/full_batch_fit.hpp"
#include "loom/viz/svg_chart.hpp"

namespace {

using examples::Clock;
using examples::peak_rss_mb;
using examples::seconds_since;

loom::Sequential<float> nnet_model(std::size_t hidden, std::uint64_t seed) {
    const auto rang = loom::Initializer::uniform(0.7);  // nnet's default rang, biases included
    loom::Sequential<float> net({28, 28, 1}, seed);
    net.add<loom::Flatten>().add<loom::Dense>(hidden, rang, rang).add<loom::Sigmoid>();
    net.add<loom::Dense>(10, rang, rang).add<loom::Softmax>();
    // The optimizer is never used (fit_full_batch brings its own); the loss defines the criterion.
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    return net;
}

// R's 10^seq(-3, 0, by = 0.25).
std::vector<double> caret_decays() {
    std::vector<double> d;
    for (int i = 0; i <= 12; ++i) d.push_back(std::pow(10.0, -3.0 + 0.25 * i));
    return d;
}

std::vector<double> parse_list(const std::string& text) {
    std::vector<double> values;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        char* end = nullptr;
        const double v = std::strtod(item.c_str(), &end);
        loom::require<loom::ArgumentError>(!item.empty() && *end == '\0' && v >= 0, "--decays: '", item,
                                           "' is not a decay >= 0");
        values.push_back(v);
    }
    loom::require<loom::ArgumentError>(!values.empty(), "--decays: empty list");
    return values;
}

// Fits one model on (x, labels) with nnet's progress output and reports train and test results. The
// training images stay bytes: a full-batch evaluation streams all of them, and bytes are a quarter
// of the memory traffic of floats (docs/performance.md).
void fit_and_test(examples::Processes& processes, std::size_t size, double decay, std::size_t maxit, std::uint64_t seed, std::size_t history,
                  const loom::fashion_mnist::ByteDataset& train, const loom::fashion_mnist::Dataset& test) {
    auto net = nnet_model(size, seed);
    std::cout << "# weights:  " << net.param_count() << "  (size " << size << ", decay " << decay << ", maxit " << maxit
              << ", " << train.size() << " training images)\n";
    loom::FullBatchOptions o;
    o.decay = decay;
    o.max_iterations = maxit;
    o.history = history;
    o.log = &std::cout;
    const auto t = Clock::now();
    const auto r = processes.fit_full_batch(net, train.samples<float>(), std::span<const int>(train.labels), o);
    const double secs = seconds_since(t);
    std::cout << std::fixed << std::setprecision(1) << "fit: " << secs << " s, " << r.iterations << " iterations, "
              << r.evaluations << " criterion evaluations (" << std::setprecision(0)
              << 1000 * secs / static_cast<double>(r.evaluations) << " ms each)\n";

    const double train_acc = loom::accuracy(train.labels, net.predict_classes(train.samples<float>(), 1024));
    const auto predicted = net.predict_classes(test.images.view(), 1024);
    const loom::ConfusionMatrix cm(test.labels, predicted, loom::fashion_mnist::classes);
    std::cout << std::setprecision(4) << "training accuracy: " << train_acc << "\ntest accuracy:     " << cm.accuracy()
              << "\n\nConfusion matrix (test set)\n";
    cm.print(std::cout, loom::fashion_mnist::class_names);
    std::cout << '\n';
    cm.print_report(std::cout, loom::fashion_mnist::class_names);
    std::cout << std::defaultfloat;
}

}  // namespace

int main(int argc, char** argv) try {
    const auto start = Clock::now();
    examples::Processes processes(argc, argv);
    examples::CommandLine cli(argc, argv, "R nnet + caret on Fashion-MNIST: a 784-50-10 MLP fitted full-batch by quasi-Newton");
    const std::string mode = cli.text("mode", "single", "single (one fit) or cv (caret's 5-fold grid over decay, then refit)");
    const auto size = cli.integer("size", 50, "hidden units (nnet's size)");
    const double decay = cli.real("decay", 0.5, "weight decay for --mode single");
    const std::string decay_list = cli.text("decays", "", "comma-separated decays for --mode cv (default 10^seq(-3, 0, by = 0.25))");
    const auto folds = cli.integer("folds", 5, "cross-validation folds");
    const auto maxit = cli.integer("maxit", 300, "maximum quasi-Newton iterations per fit (nnet's maxit)");
    const auto history = cli.integer("history", 10, "L-BFGS memory (pairs)");
    const auto threads = cli.integer("threads", 0, "threads (0: OpenMP's default)");
    const auto seed = cli.integer("seed", 1, "seed for the folds and the initial weights");
    const auto train_size = cli.integer("train-size", 60000, "training images to use (the first N)");
    const std::string parallel_fits = cli.text("parallel-fits", "on", "on: CV fits side by side, one thread each; off: one at a time");
    const std::string data_dir = cli.text("data-dir", std::string(loom::fashion_mnist::default_dir), "folder with the Fashion-MNIST .gz files");
    const std::filesystem::path out_dir = cli.text("out-dir", "nnet-out", "where the CV table (CSV) and plot (SVG) go");
    if (!cli.finish()) return 0;
    loom::require<loom::ArgumentError>(mode == "single" || mode == "cv", "--mode must be single or cv, got '", mode, "'");
    loom::require<loom::ArgumentError>(parallel_fits == "on" || parallel_fits == "off", "--parallel-fits must be on or off");
    loom::require<loom::ArgumentError>(size >= 1 && maxit >= 0 && history >= 1 && train_size >= 1 && folds >= 2,
                                       "--size, --history, --train-size >= 1, --maxit >= 0, --folds >= 2 expected");
    if (threads > 0) loom::set_num_threads(static_cast<int>(threads));

    const auto train_bytes = loom::fashion_mnist::load_bytes(data_dir, loom::fashion_mnist::Split::train, static_cast<std::size_t>(train_size));
    const auto test = loom::fashion_mnist::load(data_dir, loom::fashion_mnist::Split::test);
    std::cout << "Fashion-MNIST: " << train_bytes.labels.size() << " training and " << test.size() << " test images, "
              << loom::num_threads() << " threads" << (processes.size() > 1 ? " per rank, " + processes.describe() : "")
              << "\n\n";

    if (mode == "single") {
        fit_and_test(processes, static_cast<std::size_t>(size), decay, static_cast<std::size_t>(maxit), static_cast<std::uint64_t>(seed),
                     static_cast<std::size_t>(history), train_bytes, test);
    } else {
        const loom::fashion_mnist::ByteDataset& train = train_bytes;  // fits on bytes (see fit_and_test)
        const std::vector<double> decays = decay_list.empty() ? caret_decays() : parse_list(decay_list);
        // caret's createFolds stratifies by the class for a factor outcome.
        const auto split = loom::KFold(static_cast<std::size_t>(folds), static_cast<std::uint64_t>(seed), true).split(train.labels);
        loom::CrossValidationOptions cv;
        cv.parallel = parallel_fits == "on";
        cv.seed = static_cast<std::uint64_t>(seed);
        const auto make = [&](double, std::uint64_t s) { return nnet_model(static_cast<std::size_t>(size), s); };
        const auto options = [&](double d) {
            loom::FullBatchOptions o;
            o.decay = d;
            o.max_iterations = static_cast<std::size_t>(maxit);
            o.history = static_cast<std::size_t>(history);
            return o;
        };
        const auto cv_start = Clock::now();
        const auto progress = [&](const loom::CvProgress& p) {
            if (!p.done && p.iteration % 100 != 0) return;
            std::cout << "[" << std::fixed << std::setprecision(0) << std::setw(5) << seconds_since(cv_start) << " s] fit "
                      << std::setw(2) << p.fit << "/" << p.fits << " decay " << std::setprecision(5) << decays[p.setting]
                      << " fold " << p.fold + 1;
            if (p.done)
                std::cout << ": done, " << p.iteration << " iterations, criterion " << std::setprecision(2) << p.criterion
                          << ", accuracy " << std::setprecision(4) << p.accuracy << ", " << std::setprecision(1) << p.seconds << " s";
            else
                std::cout << ": iter " << p.iteration << " value " << std::setprecision(2) << p.criterion;
            std::cout << std::defaultfloat << '\n' << std::flush;
        };
        std::cout << "Neural Network: " << split.size() << "-fold cross-validation (stratified), " << decays.size()
                  << " decays x " << split.size() << " folds = " << decays.size() * split.size() << " fits, "
                  << (cv.parallel ? "in parallel, one thread each" : "one at a time") << "\n";
        const auto result = processes.cross_validate<float>(decays, make, options, train.samples<float>(), train.labels, split, cv, progress);
        const double cv_seconds = seconds_since(cv_start);

        std::cout << "\nResampling: Cross-Validated (" << split.size() << " fold)\n  size   decay       Accuracy  Kappa   AccuracySD  KappaSD\n";
        std::filesystem::create_directories(out_dir);
        std::ofstream csv;  // rank 0 writes the files
        if (processes.primary()) csv.open(out_dir / "nnet_cv.csv");
        csv << "size,decay,Accuracy,Kappa,AccuracySD,KappaSD\n" << std::setprecision(10);
        std::vector<double> mean, lo, hi;
        for (std::size_t s = 0; s < decays.size(); ++s) {
            const auto& t = result.summary[s];
            std::cout << std::fixed << "  " << std::setw(4) << size << "   " << std::setw(9) << std::setprecision(6) << decays[s]
                      << "   " << std::setprecision(4) << t.accuracy << "    " << t.kappa << "  " << t.accuracy_sd << "      "
                      << t.kappa_sd << (s == result.best ? "  *" : "") << '\n';
            csv << size << ',' << decays[s] << ',' << t.accuracy << ',' << t.kappa << ',' << t.accuracy_sd << ',' << t.kappa_sd << '\n';
            mean.push_back(t.accuracy);
            lo.push_back(t.accuracy - t.accuracy_sd);
            hi.push_back(t.accuracy + t.accuracy_sd);
        }
        std::cout << std::defaultfloat << "\nAccuracy was used to select the optimal model using the largest value.\n"
                  << "The final values used for the model were size = " << size << " and decay = " << result.best_setting()
                  << ".\nCross-validation: " << std::fixed << std::setprecision(1) << cv_seconds << " s\n\n" << std::defaultfloat;

        bool positive = true;
        for (double d : decays) positive = positive && d > 0;
        loom::LineChart chart("nnet 784-" + std::to_string(size) + "-10: " + std::to_string(split.size()) +
                                  "-fold CV accuracy vs weight decay", "decay", "accuracy (mean ± SD over folds)");
        chart.log_x = positive;
        chart.add("mean accuracy", decays, mean).add("+1 SD", decays, hi, true).add("-1 SD", decays, lo, true);
        if (processes.primary()) chart.write(out_dir / "nnet_cv_accuracy.svg");
        std::cout << "wrote " << (out_dir / "nnet_cv.csv").string() << " and " << (out_dir / "nnet_cv_accuracy.svg").string()
                  << "\n\nRefit on all training images with decay = " << result.best_setting() << "\n";

        const auto refit_start = Clock::now();
        fit_and_test(processes, static_cast<std::size_t>(size), result.best_setting(), static_cast<std::size_t>(maxit),
                     static_cast<std::uint64_t>(seed), static_cast<std::size_t>(history), train_bytes, test);
        std::cout << std::fixed << std::setprecision(0) << "refit and test: " << seconds_since(refit_start) << " s\n";
    }
    std::cout << std::fixed << std::setprecision(0) << "\ntotal time: " << seconds_since(start) << " s, peak RSS: "
              << peak_rss_mb() << " MB\n";
    return 0;
} catch (const std::exception& e) {
    std::cerr << "nnet: " << e.what() << '\n';
    return 1;
}
