/// Sample literate documents shared by the Notebook and Reports tests.
public enum NotebookFixtures {
  /// A complete, valid document in the shape of `Pipelines/fig2.md`: a title, prose with
  /// inline values, ordinary code, an experiment, a figure, a table and a provenance marker.
  public static let figure2 = """
    # Figure 2: Bayesian vs deterministic CNNs

    We compare MC-dropout acquisition with its deterministic counterpart
    over {{value rounds}} rounds ({{value repetitions}} repetitions, profile {{value profile}}).

    ```dbal-experiment
    # The three acquisition functions of the paper's Figure 2.
    acquisitions: bald, var-ratios, max-entropy
    models: bayesian, deterministic
    repetitions: 3
    validation: 100
    set: epochs=50, mc-samples=20
    ```

    ## Results

    ```dbal-figure
    id: accuracy-curves
    panels: acquisition
    series: model
    metric: mc
    title: Test accuracy against acquired images
    caption: Bayesian CNN (red) against deterministic CNN (blue).
    ```

    BALD reaches {{value final.mc.bald.bayesian}} with MC dropout and
    {{value final.mc.bald.deterministic}} without.

    ```sh
    pipeline reproduce fig2  # {{not a value}} inside code
    ```

    ```dbal-table
    id: acquired-to-error
    kind: acquired-to-error
    errors: 10, 5
    caption: Acquired images needed to reach a given test error.
    ```

    - a list item
    - another | with a pipe

    ```dbal-provenance
    ```
    """
}
