"""Every piece of text on the page, in English and Korean (한국어), in one place."""

from __future__ import annotations

from .optimizers import ALL_OPTIMIZERS, ENGINE_OPTIMIZERS, FRAMEWORK_NAMES

LANGUAGES = {"en": "English", "ko": "한국어"}

# Keras's own argument names stay as they are in both languages: the code snippet prints them.
HPARAM_HELP = {
    "en": {
        "learning_rate": "learning rate",
        "momentum": "momentum",
        "rho": "rho (decay of the squared-gradient average)",
        "beta_1": "beta_1 (decay of the gradient average)",
        "beta_2": "beta_2 (decay of the squared-gradient average)",
        "epsilon": "epsilon (guards the division)",
        "initial_accumulator_value": "initial_accumulator_value (starting sum of squares)",
        "centered": "centered (divide by the gradient's variance)",
        "amsgrad": "amsgrad (never let the squared average shrink)",
        "weight_decay": "weight_decay (shrink w by lr × this each step; 0 = off)",
        "clipnorm": "clipnorm (clip the gradient's norm; 0 = off)",
        "clipvalue": "clipvalue (clip each gradient component; 0 = off)",
        "global_clipnorm": "global_clipnorm (clip the global norm; 0 = off)",
        "learning_rate_power": "learning_rate_power (how the step shrinks)",
        "l1_regularization_strength": "l1_regularization_strength (L1 penalty)",
        "l2_regularization_strength": "l2_regularization_strength (L2 penalty)",
        "l2_shrinkage_regularization_strength": "l2_shrinkage_regularization_strength (L2 shrinkage)",
        "beta": "beta (added to the accumulator's root)",
        "beta_2_decay": "beta_2_decay (decay exponent of the second moment)",
        "epsilon_1": "epsilon_1 (added to the squared gradient)",
        "epsilon_2": "epsilon_2 (smallest relative step scale)",
        "clip_threshold": "clip_threshold (largest RMS of an update)",
        "relative_step": "relative_step (step relative to the weights' scale)",
        "warmup_steps": "warmup_steps (steps of linear warm-up)",
    },
    "ko": {
        "learning_rate": "학습률",
        "momentum": "모멘텀",
        "rho": "rho (제곱 그래디언트 평균의 감쇠율)",
        "beta_1": "beta_1 (그래디언트 평균의 감쇠율)",
        "beta_2": "beta_2 (제곱 그래디언트 평균의 감쇠율)",
        "epsilon": "epsilon (0으로 나누기 방지)",
        "initial_accumulator_value": "initial_accumulator_value (제곱합의 초깃값)",
        "centered": "centered (그래디언트 분산으로 나누기)",
        "amsgrad": "amsgrad (제곱 평균이 줄지 않게 하기)",
        "weight_decay": "weight_decay (매 스텝 w를 학습률 × 이 값만큼 줄임; 0 = 끔)",
        "clipnorm": "clipnorm (그래디언트 노름 자르기; 0 = 끔)",
        "clipvalue": "clipvalue (그래디언트 성분별 자르기; 0 = 끔)",
        "global_clipnorm": "global_clipnorm (전체 노름 자르기; 0 = 끔)",
        "learning_rate_power": "learning_rate_power (스텝이 줄어드는 정도)",
        "l1_regularization_strength": "l1_regularization_strength (L1 벌점)",
        "l2_regularization_strength": "l2_regularization_strength (L2 벌점)",
        "l2_shrinkage_regularization_strength": "l2_shrinkage_regularization_strength (L2 수축)",
        "beta": "beta (누적값의 제곱근에 더하는 값)",
        "beta_2_decay": "beta_2_decay (2차 모멘트 감쇠 지수)",
        "epsilon_1": "epsilon_1 (제곱 그래디언트에 더하는 값)",
        "epsilon_2": "epsilon_2 (상대 스텝 크기의 최솟값)",
        "clip_threshold": "clip_threshold (업데이트 RMS의 최댓값)",
        "relative_step": "relative_step (가중치 크기에 상대적인 스텝)",
        "warmup_steps": "warmup_steps (선형 워밍업 스텝 수)",
    },
}

OPTIMIZER_NAMES = {
    "en": {name: opt.display_name for name, opt in ALL_OPTIMIZERS.items()},  # one place: the definitions
    "ko": {"sgd": "확률적 경사 하강법 (SGD)", "nesterov": "네스테로프 모멘텀 (Nesterov)", "adagrad": "아다그라드 (Adagrad)",
           "rmsprop": "알엠에스프롭 (RMSprop)", "adam": "아담 (Adam)", "adamax": "아다맥스 (Adamax)",
           "adamw": "아담W (AdamW)", "nadam": "나담 (Nadam)", "adadelta": "아다델타 (Adadelta)", "lion": "라이언 (Lion)",
           "ftrl": "에프티알엘 (FTRL)", "lamb": "램 (LAMB)", "adafactor": "아다팩터 (Adafactor)",
           "schedulefreeadamw": "스케줄 프리 아담W (ScheduleFreeAdamW)"},
}

# Short names for inside charts (legends, hover), where every pixel counts.
OPTIMIZER_SHORT_NAMES = {
    "en": {name: opt.short_name for name, opt in ALL_OPTIMIZERS.items()},
    "ko": {"sgd": "SGD", "nesterov": "네스테로프", "adagrad": "아다그라드", "rmsprop": "알엠에스프롭", "adam": "아담",
           "adamax": "아다맥스", "adamw": "아담W", "nadam": "나담", "adadelta": "아다델타", "lion": "라이언", "ftrl": "FTRL",
           "lamb": "램", "adafactor": "아다팩터", "schedulefreeadamw": "스케줄 프리 아담W"},
}

# PyTorch's and optax's optimizers ("pytorch:adam"): Keras's name (or the framework's own)
# and the framework's, so that "Adam" and "Adam · PyTorch" are told apart in every legend.
_NO_KERAS_NAMESAKE_KO = {"radam": "알아담 (RAdam)", "adabelief": "아다빌리프 (AdaBelief)"}
FRAMEWORK_LABELS = {"en": FRAMEWORK_NAMES, "ko": {"keras": "케라스", "pytorch": "파이토치", "optax": "옵택스"}}
for _key, _opt in ENGINE_OPTIMIZERS.items():
    if _opt.framework == "keras":
        continue
    OPTIMIZER_NAMES["en"][_key] = _opt.label
    OPTIMIZER_SHORT_NAMES["en"][_key] = f"{_opt.short_name} · {FRAMEWORK_NAMES[_opt.framework]}"
    _ko = FRAMEWORK_LABELS["ko"][_opt.framework]
    _ko_name = OPTIMIZER_NAMES["ko"].get(_opt.name) or _NO_KERAS_NAMESAKE_KO.get(_opt.name, _opt.display_name)
    OPTIMIZER_NAMES["ko"][_key] = f"{_ko_name} · {_ko}"
    OPTIMIZER_SHORT_NAMES["ko"][_key] = f"{OPTIMIZER_SHORT_NAMES['ko'].get(_opt.name, _opt.short_name)} · {_ko}"

# What the other framework does differently from Keras, under its formula in the rules tab
# (by optviz's name; the rest: the generic note).
FRAMEWORK_DIFFERENCES = {
    "en": {
        "pytorch:adam": "PyTorch adds `eps` (1e-8) to √v̂ after the bias correction; Keras adds `epsilon` "
                        "(1e-7) to √v before it, so Keras's is in effect ε/√(1−β₂ᵗ), 30 times larger at step 1.",
        "optax:adam": "optax adds `eps` (1e-8) after the bias correction, as PyTorch does, and can add `eps_root` "
                      "inside the root; Keras adds `epsilon` (1e-7) to √v before the correction.",
        "pytorch:rmsprop": "PyTorch's `eps` is outside the square root (√v + ε), its decay `alpha` is 0.99 and its "
                           "`lr` 1e-2; Keras puts `epsilon` inside (√(v + ε)) with `rho` 0.9 and 1e-3.",
        "optax:rmsprop": "optax's `decay` is 0.9 as Keras's `rho`; `eps_in_sqrt=True` puts `eps` inside the root "
                         "as Keras does (False: outside, as PyTorch).",
        "pytorch:adagrad": "PyTorch starts the accumulator at 0 (`initial_accumulator_value`); Keras at 0.1.",
        "pytorch:sgd": "PyTorch's `weight_decay` is an L2 term on the gradient; Keras's is decoupled.",
        "pytorch:adamax": "PyTorch adds `eps` inside the max (max(βu, |g| + ε)); Keras adds it after.",
        "pytorch:nadam": "PyTorch's momentum schedule runs on `momentum_decay` (μ near 0.5 at first); Keras's on "
                         "0.96 ** (0.004 t).",
    },
    "ko": {
        "pytorch:adam": "파이토치는 `eps`(1e-8)를 편향 보정 뒤의 √v̂에 더하고, 케라스는 `epsilon`(1e-7)을 보정 전의 √v에 "
                        "더합니다. 그래서 케라스의 값은 사실상 ε/√(1−β₂ᵗ)로, 첫 스텝에서 30배 큽니다.",
        "optax:adam": "optax는 파이토치처럼 편향 보정 뒤에 `eps`(1e-8)를 더하고, 제곱근 안에 `eps_root`를 더할 수도 "
                      "있습니다. 케라스는 보정 전의 √v에 `epsilon`(1e-7)을 더합니다.",
        "pytorch:rmsprop": "파이토치의 `eps`는 제곱근 밖(√v + ε)에 있고 감쇠 `alpha`는 0.99, `lr`은 1e-2입니다. 케라스는 "
                           "`epsilon`을 제곱근 안(√(v + ε))에 두고 `rho` 0.9, 학습률 1e-3입니다.",
        "optax:rmsprop": "optax의 `decay`는 케라스의 `rho`처럼 0.9이고, `eps_in_sqrt=True`이면 케라스처럼 `eps`를 "
                         "제곱근 안에 둡니다(False: 파이토치처럼 밖).",
        "pytorch:adagrad": "파이토치는 누적값을 0에서 시작합니다(`initial_accumulator_value`). 케라스는 0.1에서.",
        "pytorch:sgd": "파이토치의 `weight_decay`는 그래디언트에 더하는 L2 항이고, 케라스의 것은 분리된 감쇠입니다.",
        "pytorch:adamax": "파이토치는 `eps`를 max 안에 더합니다(max(βu, |g| + ε)). 케라스는 그 뒤에.",
        "pytorch:nadam": "파이토치의 모멘텀 일정은 `momentum_decay`를 따릅니다(처음엔 μ가 0.5 근처). 케라스는 "
                         "0.96 ** (0.004 t).",
    },
}

# The step-through inspector's rows (figures.inspector_rows' keys), in the notation of its
# caption (which says what each is) rather than as code names; the optimizer's state rows
# keep Keras's own variable names ("momentum (x)"), which its code prints too.
INSPECTOR_ROWS = {lang: {"x": "x", "y": "y", "gx": "∂f/∂x", "gy": "∂f/∂y", "dx": "Δx", "dy": "Δy",
                         "step_size_x": "|Δx| / |∂f/∂x|", "step_size_y": "|Δy| / |∂f/∂y|",
                         "sharpness": {"en": "sharpness λmax(∇²f)", "ko": "날카로움 λmax(∇²f)"}[lang]}
                  for lang in ("en", "ko")}

SURFACE_NAMES = {
    "en": {"rosenbrock": "Rosenbrock", "saddle": "Saddle", "quadratic": "Ill-conditioned quadratic",
           "himmelblau": "Himmelblau", "beale": "Beale", "rastrigin": "Rastrigin", "ackley": "Ackley",
           "booth": "Booth", "goldstein_price": "Goldstein–Price", "six_hump_camel": "Six-hump camel",
           "data_line": "Data: a noisy line (linear)", "data_classes": "Data: two classes (logistic)",
           "data_correlated": "Data: correlated inputs (plane)", "data_anscombe": "Data: Anscombe's quartet I (linear)",
           "data_iris_petals": "Data: iris petal width (logistic)",
           "data_iris_plane": "Data: iris petals → sepal length (plane)",
           "custom": "Your own formula…"},
    "ko": {"rosenbrock": "로젠브록", "saddle": "안장점", "quadratic": "조건수가 큰 이차함수", "himmelblau": "힘멜블라우",
           "beale": "빌", "rastrigin": "라스트리긴", "ackley": "애클리", "booth": "부스",
           "goldstein_price": "골드스타인–프라이스", "six_hump_camel": "여섯 혹 낙타",
           "data_line": "데이터: 잡음 섞인 직선 (선형)", "data_classes": "데이터: 두 클래스 (로지스틱)",
           "data_correlated": "데이터: 상관된 입력 (평면)", "data_anscombe": "데이터: 앤스컴 콰르텟 I (선형)",
           "data_iris_petals": "데이터: 붓꽃 꽃잎 너비 (로지스틱)", "data_iris_plane": "데이터: 붓꽃 꽃잎 → 꽃받침 길이 (평면)",
           "custom": "직접 입력한 수식…"},
}

SURFACE_NOTES = {
    "en": {"rosenbrock": "A long, curved, flat-bottomed valley: easy to find, hard to follow.",
           "saddle": "A saddle point at the origin: uphill in x, downhill in y.",
           "quadratic": "A bowl κ times steeper in y than in x (κ is the condition number).",
           "himmelblau": "Four equal minima: where you start decides where you end.",
           "beale": "Flat plateaus and sharp ridges.",
           "rastrigin": "A bowl covered in local minima.",
           "ackley": "A nearly flat, bumpy plain around one deep hole.",
           "booth": "A tilted bowl: an easy warm-up.",
           "goldstein_price": "Values from 3 to a million: steep walls, several basins.",
           "six_hump_camel": "Six local minima, two of them global.",
           "data_line": "keras.layers.Dense(1), loss \"mse\", on y = 2x + 1 plus noise (x from 0 to 10): "
                        "the axes are the kernel w and the bias b.",
           "data_classes": "Dense(1, activation=\"sigmoid\"), loss \"binary_crossentropy\", on two overlapping "
                           "classes: a flat plateau and a steep wall.",
           "data_correlated": "Dense(1, use_bias=False) on two correlated inputs, loss \"mse\": the axes are w1 and w2.",
           "data_anscombe": "Dense(1), loss \"mse\", on Anscombe's quartet I (11 points; best line y = 0.5x + 3).",
           "data_iris_petals": "Dense(1, activation=\"sigmoid\") on petal width: virginica (1) or versicolor (0).",
           "data_iris_plane": "Dense(1, use_bias=False) on petal length and width, predicting sepal length.",
           "custom": "Type f(x, y) with numbers, x, y, + − * / ** and sin, cos, tan, exp, log, sqrt, abs, tanh, "
                     "sinh, cosh, arctan, min(a, b), max(a, b), pi, e."},
    "ko": {"rosenbrock": "길고 휘어진, 바닥이 평평한 골짜기: 찾기는 쉽고 따라가기는 어렵습니다.",
           "saddle": "원점의 안장점: x 방향은 오르막, y 방향은 내리막입니다.",
           "quadratic": "y 방향이 x 방향보다 κ배 가파른 그릇 (κ는 조건수).",
           "himmelblau": "똑같이 낮은 최솟값 네 개: 어디서 출발하느냐가 도착점을 정합니다.",
           "beale": "평평한 고원과 날카로운 능선.",
           "rastrigin": "지역 최솟값으로 뒤덮인 그릇.",
           "ackley": "깊은 구멍 하나를 둘러싼, 거의 평평하고 울퉁불퉁한 평원.",
           "booth": "기울어진 그릇: 쉬운 준비 운동.",
           "goldstein_price": "3부터 백만까지의 값: 가파른 벽과 여러 분지.",
           "six_hump_camel": "지역 최솟값 여섯 개, 그중 두 개가 전역 최솟값.",
           "data_line": "keras.layers.Dense(1), 손실 \"mse\", 데이터는 y = 2x + 1에 잡음 (x는 0~10): 가로축은 커널 w, 세로축은 편향 b.",
           "data_classes": "Dense(1, activation=\"sigmoid\"), 손실 \"binary_crossentropy\", 겹치는 두 클래스: 평평한 고원과 가파른 벽.",
           "data_correlated": "상관된 두 입력에 Dense(1, use_bias=False), 손실 \"mse\": 축은 w1과 w2.",
           "data_anscombe": "Dense(1), 손실 \"mse\", 앤스컴 콰르텟 I (점 11개, 최적 직선 y = 0.5x + 3).",
           "data_iris_petals": "꽃잎 너비에 Dense(1, activation=\"sigmoid\"): 버지니카(1)인지 버시컬러(0)인지.",
           "data_iris_plane": "꽃잎 길이와 너비로 꽃받침 길이를 예측하는 Dense(1, use_bias=False).",
           "custom": "숫자, x, y, + − * / ** 와 sin, cos, tan, exp, log, sqrt, abs, tanh, sinh, cosh, arctan, "
                     "min(a, b), max(a, b), pi, e 로 f(x, y)를 입력하세요."},
}

# Two lines of plain explanation per optimizer.
EXPLANATIONS = {
    "en": {
        "sgd": "Steps straight down the gradient, scaled by the learning rate. With momentum it keeps a velocity "
               "that adds up past steps: faster along a valley, but it overshoots and swings across it.",
        "nesterov": "Momentum that looks ahead: it corrects the step with the gradient where the velocity is "
                    "taking it, so it brakes before overshooting and swings less than plain momentum.",
        "adagrad": "Divides each coordinate's step by the root of the sum of all its past squared gradients. "
                   "Steep directions are tamed at once, but the sum only grows, so every step shrinks and it stalls.",
        "rmsprop": "Like Adagrad, but with a decaying average of squared gradients instead of a sum (rho sets "
                   "the decay): the step size stops shrinking, so it keeps moving where Adagrad stalls.",
        "adam": "Momentum (an average of gradients, beta_1) divided by RMSprop's scale (beta_2), with a bias "
                "correction so the first steps are not tiny: each coordinate moves about one learning rate.",
        "adamax": "Adam with the largest recent gradient (an infinity norm) in place of the squared average: "
                  "a step size bounded by the learning rate and robust to rare huge gradients.",
        "adamw": "Adam plus decoupled weight decay: before each step the weights shrink by learning rate × "
                 "weight_decay, separately from the gradient, which is why it regularises better than L2 in Adam.",
        "nadam": "Adam with Nesterov momentum: the first moment is corrected with the gradient it is about to "
                 "meet, under a momentum schedule that warms up over the first steps.",
        "adadelta": "Scales each step by the ratio of two running averages, of past updates and of past squared "
                    "gradients: the units of the step match the weights', and it needs almost no learning rate.",
        "lion": "Takes the sign of an interpolation of momentum and gradient: every coordinate moves by exactly "
                "the learning rate, so it needs a 3-10× smaller rate than Adam.",
        "ftrl": "Follow The Regularized Leader: a per-coordinate adaptive method built for sparse, huge models; "
                "its L1 term can put weights at exactly zero.",
        "lamb": "Adam's direction rescaled per layer by a trust ratio ‖w‖ / ‖update‖: large-batch training keeps "
                "each layer's step in proportion to its weights.",
        "adafactor": "Adam-like with a memory-light second moment (factored for matrices) and an update clipped by "
                     "its RMS; its step can be relative to the weights' scale.",
        "schedulefreeadamw": "AdamW without a learning-rate schedule: it averages its iterates and evaluates the "
                             "gradient at an interpolation between the average and the fast sequence.",
    },
    "ko": {
        "sgd": "그래디언트 반대 방향으로 학습률만큼 곧장 내려갑니다. 모멘텀을 주면 지난 스텝을 누적한 속도를 유지해 "
               "골짜기를 따라 빨라지지만, 지나쳐서 골짜기를 가로질러 흔들립니다.",
        "nesterov": "앞을 내다보는 모멘텀: 속도가 데려갈 곳의 그래디언트로 스텝을 고쳐, 지나치기 전에 브레이크를 걸고 "
                    "일반 모멘텀보다 덜 흔들립니다.",
        "adagrad": "각 좌표의 스텝을 지금까지의 제곱 그래디언트 합의 제곱근으로 나눕니다. 가파른 방향은 바로 길들지만, "
                   "합은 커지기만 해서 스텝이 계속 줄어들고 결국 멈춥니다.",
        "rmsprop": "아다그라드와 같지만 합 대신 제곱 그래디언트의 지수 이동 평균을 씁니다 (rho가 감쇠율). 스텝 크기가 "
                   "줄어들기를 멈추므로, 아다그라드가 멈추는 곳에서도 계속 나아갑니다.",
        "adam": "모멘텀(그래디언트 평균, beta_1)을 알엠에스프롭의 크기(beta_2)로 나누고, 첫 스텝이 너무 작지 않게 "
                "편향을 보정합니다: 각 좌표가 대략 학습률만큼씩 움직입니다.",
        "adamax": "제곱 평균 대신 최근 그래디언트의 최댓값(무한대 노름)을 쓰는 아담: 스텝 크기가 학습률로 제한되고 "
                  "드물게 나오는 아주 큰 그래디언트에 강합니다.",
        "adamw": "아담에 분리된 가중치 감쇠를 더했습니다: 매 스텝 전에 가중치를 학습률 × weight_decay만큼 그래디언트와 "
                 "따로 줄이므로, 아담에서의 L2보다 정규화가 잘 됩니다.",
        "nadam": "네스테로프 모멘텀을 쓰는 아담: 곧 만날 그래디언트로 1차 모멘트를 고치며, 모멘텀 계수는 처음 몇 "
                 "스텝 동안 서서히 커집니다.",
        "adadelta": "지난 업데이트와 지난 제곱 그래디언트, 두 이동 평균의 비율로 스텝을 정합니다: 스텝의 단위가 "
                    "가중치의 단위와 맞고, 학습률이 거의 필요 없습니다.",
        "lion": "모멘텀과 그래디언트를 섞은 값의 부호만 씁니다: 모든 좌표가 정확히 학습률만큼 움직이므로, 아담보다 "
                "3~10배 작은 학습률이 필요합니다.",
        "ftrl": "FTRL(Follow The Regularized Leader): 희소하고 거대한 모델을 위한 좌표별 적응 방법으로, L1 항이 "
                "가중치를 정확히 0으로 만들 수 있습니다.",
        "lamb": "아담의 방향을 층마다 신뢰 비율 ‖w‖ / ‖업데이트‖로 다시 맞춥니다: 큰 배치 학습에서도 각 층의 스텝이 "
                "가중치 크기에 비례합니다.",
        "adafactor": "메모리를 아끼는 2차 모멘트(행렬이면 인수분해)와 RMS로 자른 업데이트를 쓰는 아담 계열로, "
                     "스텝을 가중치 크기에 상대적으로 정할 수 있습니다.",
        "schedulefreeadamw": "학습률 스케줄이 필요 없는 아담W: 반복값을 평균하고, 평균과 빠른 수열 사이의 점에서 "
                             "그래디언트를 계산합니다.",
    },
}

SCHEDULE_NAMES = {
    "en": {"ExponentialDecay": "Exponential decay (ExponentialDecay)",
           "PiecewiseConstantDecay": "Piecewise constant (PiecewiseConstantDecay)",
           "PolynomialDecay": "Polynomial decay (PolynomialDecay)", "InverseTimeDecay": "Inverse time (InverseTimeDecay)",
           "CosineDecay": "Cosine decay, with warm-up (CosineDecay)",
           "CosineDecayRestarts": "Cosine with restarts (CosineDecayRestarts)"},
    "ko": {"ExponentialDecay": "지수 감쇠 (ExponentialDecay)", "PiecewiseConstantDecay": "구간별 상수 (PiecewiseConstantDecay)",
           "PolynomialDecay": "다항식 감쇠 (PolynomialDecay)", "InverseTimeDecay": "시간 역수 감쇠 (InverseTimeDecay)",
           "CosineDecay": "코사인 감쇠, 워밍업 포함 (CosineDecay)", "CosineDecayRestarts": "재시작 코사인 (CosineDecayRestarts)"},
}

PRESET_NAMES = {
    "en": {"tuned": "Tuned for this surface", "keras": "Keras defaults", "article": "The article's settings",
           "frameworks": "Same settings, three frameworks"},
    "ko": {"tuned": "이 표면에 맞춘 값", "keras": "케라스 기본값", "article": "글의 예제 설정",
           "frameworks": "같은 설정, 세 프레임워크"},
}

TEXT = {
    "en": {
        "title": "optviz: Keras optimizers racing across a loss surface",
        "subtitle": "Every path is the one `keras.optimizers` would take, step for step. Press ▶ Play on the chart.",
        "language": "Language",
        "preset": "Preset",
        "surface": "Surface",
        "kappa": "Condition number κ",
        "optimizers": "Optimizers",
        "frameworks": "Other frameworks' optimizers",
        "frameworks_help": "PyTorch's (torch.optim) and optax's own rules, names and defaults, raced beside Keras's: "
                           "dashed lines PyTorch, dotted optax.",
        "framework_settings_of": "{name}: its framework's settings",
        "framework_note": "{framework}'s own names and defaults. Learning-rate schedules are Keras's only: "
                          "{framework} races at a constant rate (unless set here, the one Keras's namesake races at).",
        "framework_code_caption": "{framework} code for these settings:",
        "framework_difference": "How it differs from Keras's: {note}",
        "framework_difference_default": "Same name as Keras's, its own framework's rule and defaults "
                                        "(compare the formulas).",
        "learning_rate": "Learning rate",
        "momentum": "Momentum",
        "follows": "Used by: {names}",
        "follows_none": "No selected optimizer uses this slider: each has its own value below.",
        "steps": "Steps",
        "batch_size": "Batch size",
        "full_batch": "{n} (full batch)",
        "epochs": "Epochs",
        "fit_steps": "{batches} batches an epoch: {steps} steps in all, one per batch, as model.fit takes them.",
        "data_about": "{n} points. {source}",
        "synthetic": "Synthetic, seeded (the same data on every machine).",
        "standardize": "Standardize the inputs",
        "standardize_help": "Centre each input column and scale it to standard deviation 1: the bowl turns round.",
        "shuffle": "Shuffle each epoch",
        "shuffle_help": "optviz's own order each epoch, from the seed below (the Keras code passes the same batches).",
        "fit_title": "The data and each optimizer's model at step {step}",
        "fit_program": "The whole Keras program for {name}: data, model, set_weights, compile, fit",
        "data_points": "data",
        "predicted": "prediction",
        "tune_data_note": "On a data surface each cell is full-batch gradient descent for the same number of steps.",
        "start": "Start point",
        "start_x": "Start x",
        "start_y": "Start y",
        "reset_start": "Reset to the surface's start",
        "noise": "Gradient noise (standard deviation)",
        "seed": "Noise seed",
        "settings_of": "{name}: all settings",
        "own_learning_rate": "Own learning rate",
        "own_momentum": "Own momentum",
        "reset_optimizer": "Back to Keras's defaults",
        "tabs": "View",
        "tab_race": "Race",
        "tab_3d": "3D",
        "tab_rules": "Update rules and Keras code",
        "loss_title": "Loss by step",
        "results": "Results",
        "col_optimizer": "Optimizer",
        "col_final_loss": "Final loss",
        "col_distance": "To nearest min",
        "col_steps": "Steps to ≤ {tol:g}",
        "col_diverged": "Diverged at",
        "never": "never",
        "unknown": "unknown minimum",
        "none": "—",
        "no_optimizer": "Choose at least one optimizer in the sidebar.",
        "bad_url": "The link's `{key}={value}` is not valid ({reason}); using {default} instead.",
        "unknown_url": "The link's parameter `{key}` is unknown and was ignored.",
        "bad_input": "That setting is not valid: {reason}",
        "code_caption": "Keras code for these settings:",
        "share": "Share: the address bar holds every setting; copy it to open this exact view.",
        "play": "▶ Play", "pause": "❚❚ Pause", "step": "Step ", "start_marker": "start", "minimum": "minimum",
        "diverged_at": "{name} diverged at step {step}", "loss": "loss", "loss_gap": "loss − minimum",
        "diverged_warning": "{names} diverged (✖ on the chart: the path ran off to infinity or to where the loss "
                            "is not a number): try a smaller learning rate.",
        "lesson": "Lesson",
        "free_play": "— free play —",
        "previous": "◀ Previous",
        "next": "Next ▶",
        "presenter": "Presenter mode",
        "look_for": "What to look for",
        "question": "Question for the class",
        "step_back": "◀",
        "step_forward": "▶",
        "step_ten": "+10",
        "step_first": "⇤",
        "step_last": "⇥",
        "step_help": {"first": "Back to step 0", "back": "One step back", "step": "One step forward (every head)",
                      "ten": "Ten steps forward", "last": "Show the whole race"},
        "step_now": "Step {step} of {steps}",
        "inspector": "Inspector at step {step}",
        "inspector_help": "Arrows at this step: each optimizer's update in its colour (true size), the downhill "
                          "direction −∇f in black and its velocity / first moment in its lighter colour (both "
                          "scaled to one length). Effective step size = |Δw| / |g| per coordinate: for SGD the "
                          "learning rate; watch Adagrad's shrink as its accumulator grows.",
        "click_start": "Click anywhere on the chart to start from there.",
        "zoom_help": "To zoom, pick Box Select in the chart's toolbar and drag a box: the view stays while "
                     "you change settings, and the link keeps it.",
        "zoomed": "Zoomed in: the surface is redrawn for this view, which stays while you change settings.",
        "reset_view": "Whole surface",
        "chart_marks": "★ a minimum, ○ the start.",
        "started_at": "Start set to ({x:.3g}, {y:.3g}).",
        "bad_start": "The loss is not a finite number at ({x:.3g}, {y:.3g}), so no path can start there; "
                     "the race starts from the surface's own start ({x0:.3g}, {y0:.3g}) instead.",
        "formula": "Formula f(x, y)",
        "box": "View box: x and y from −b to b",
        "bad_formula": "The formula cannot be used: {reason}",
        "export": "Export for slides and reports",
        "export_html": "Interactive HTML (works offline)",
        "export_csv": "Paths as CSV",
        "export_gif": "Make an animated GIF",
        "download_gif": "Download the GIF",
        "schedule": "Learning-rate schedule",
        "schedule_none": "None (a constant rate)",
        "schedule_help": "Applies to every optimizer: each starts from its own learning rate. "
                         "The chart shows the shared rate by step.",
        "factors": "values as factors of the learning rate (one more than boundaries), e.g. 1, 0.5, 0.1",
        "boundaries": "boundaries (steps), e.g. 100, 300",
        "tab_tune": "Tuning",
        "tune_optimizer": "Optimizer to tune",
        "tune_help": "Each cell is a whole run ({steps} steps from the start point): colour is the final loss gap "
                     "(darker is better), ✖ marks divergence. Click a cell to load its learning rate and {axis} "
                     "into the race.",
        "tune_loaded": "Loaded learning_rate={lr:.3g} and {axis}={value:.3g} into {name}.",
        "lr_curve": "Final loss by learning rate, each optimizer with its other settings as they are",
        "tune_error": "This map cannot be drawn: {reason}",
        "lr_limit": "Theory, on this quadratic (λmax = {lam:.4g}): {parts}.",
        "lr_limit_part": "{name} diverges above {lr:.3g} at momentum {mu:.2f}",
        "use_best": "Use the best settings (theory): learning rate {lr:.3g}, momentum {mu:.2f}",
        "use_best_help": "The settings with the smallest spectral radius on this quadratic (λmin = {low:.4g}, "
                         "λmax = {high:.4g}, κ = {kappa:.4g}): predicted rate ρ = {rate:.4f}. They go to the "
                         "sliders' nearest notches.",
        "tune_theory": "Theory for this quadratic: the dashed line is where divergence starts (η·λmax = 2(1 + μ) for "
                       "momentum, 2(1 + μ)/(1 + 2μ) for Nesterov); the stars are the best settings at momentum 0 and "
                       "overall. The derivation is under *Update rules and Keras code*.",
        "side_chart": "Chart beside the race",
        "chart_loss": "Loss",
        "chart_sharpness": "Sharpness",
        "sharpness_title": "Sharpness by step (the Hessian's largest eigenvalue at each point)",
        "sharpness_help": "Dotted: each SGD / Nesterov run's stability limit (2/η at momentum 0, 2(1 + μ)/η with "
                          "momentum, 2(1 + μ)/((1 + 2μ)η) for Nesterov). A path whose sharpness climbs to its line "
                          "and stays there is at the edge of stability.",
        "rate_help": "Dotted, on a quadratic: the loss the linear theory predicts for SGD and Nesterov (loss gap "
                     "∝ ρ^(2k), ρ the iteration's spectral radius).",
        "derivation_title": "Why SGD and Nesterov diverge where they do: the derivation",
        "derivation": """On a quadratic $f(w) = \\tfrac12 (w - w^*)^\\top H (w - w^*) + f^*$ the gradient is $H(w - w^*)$, so along each eigenvector of $H$ (eigenvalue $\\lambda$) a rule that is linear in the gradient is a 2×2 iteration. Write $s = \\eta\\lambda$ and $w$ for the distance to the minimum along that eigenvector.

**SGD with momentum**, as Keras steps it ($m \\leftarrow \\mu m - \\eta g$, $w \\leftarrow w + m$):

$$\\begin{pmatrix} w \\\\ m \\end{pmatrix} \\leftarrow \\begin{pmatrix} 1 - s & \\mu \\\\ -s & \\mu \\end{pmatrix} \\begin{pmatrix} w \\\\ m \\end{pmatrix}, \\qquad z^2 - (1 + \\mu - s)\\,z + \\mu = 0.$$

**Nesterov**, as Keras steps it ($m \\leftarrow \\mu m - \\eta g$, then $w \\leftarrow w + \\mu m - \\eta g$ with the new $m$): $w \\leftarrow w + \\mu(\\mu m - s w) - s w$, so

$$\\begin{pmatrix} w \\\\ m \\end{pmatrix} \\leftarrow \\begin{pmatrix} 1 - s(1 + \\mu) & \\mu^2 \\\\ -s & \\mu \\end{pmatrix} \\begin{pmatrix} w \\\\ m \\end{pmatrix}, \\qquad z^2 - (1 + \\mu)(1 - s)\\,z + \\mu(1 - s) = 0.$$

Both roots lie inside the unit circle exactly when (Jury's test, $T$ the trace, $D$ the determinant) $1 - T + D > 0$, $1 + T + D > 0$ and $|D| < 1$. For momentum $1 - T + D = s$ and $1 + T + D = 2(1 + \\mu) - s$: stable iff $0 < \\eta\\lambda < 2(1 + \\mu)$. For Nesterov $1 - T + D = s$ and $1 + T + D = 2(1 + \\mu) - s(1 + 2\\mu)$: stable iff $0 < \\eta\\lambda < \\dfrac{2(1 + \\mu)}{1 + 2\\mu}$. The largest eigenvalue $\\lambda_{\\max}$ decides: divergence starts at $\\eta = 2(1 + \\mu)/\\lambda_{\\max}$ (momentum) and $2(1 + \\mu)/((1 + 2\\mu)\\lambda_{\\max})$ (Nesterov); at $\\mu = 0$ both are gradient descent's $2/\\lambda_{\\max}$.

The largest $|z|$ over all eigenvalues, $\\rho$, is the linear rate: the loss gap shrinks like $\\rho^{2k}$. It is smallest for gradient descent at $\\eta = 2/(\\lambda_{\\max} + \\lambda_{\\min})$, $\\rho = (\\kappa - 1)/(\\kappa + 1)$; for momentum at $\\eta = 4/(\\sqrt{\\lambda_{\\max}} + \\sqrt{\\lambda_{\\min}})^2$, $\\mu = \\left(\\frac{\\sqrt\\kappa - 1}{\\sqrt\\kappa + 1}\\right)^2$, $\\rho = \\frac{\\sqrt\\kappa - 1}{\\sqrt\\kappa + 1}$; for Nesterov at $\\eta = 4/(3\\lambda_{\\max} + \\lambda_{\\min})$, $\\mu = \\frac{\\sqrt{3\\kappa + 1} - 2}{\\sqrt{3\\kappa + 1} + 2}$, $\\rho = 1 - 2/\\sqrt{3\\kappa + 1}$ ($\\kappa = \\lambda_{\\max}/\\lambda_{\\min}$).""",
        "fig_boundary": "divergence starts here (theory)",
        "fig_best": "best (theory): learning_rate {lr:.3g}, {axis} {mu:.2f}",
        "fig_best_gd": "best at {axis} 0 (theory): learning_rate {lr:.3g}",
        "fig_rate": "predicted rate ρ = {rate:.4f}",
        "fig_sharpness": "sharpness (largest Hessian eigenvalue)",
        "fig_limit": "{name}: stable below {value:.4g}",
        "curve_error": "No learning-rate curves: {reason}",
        "tune_thinned": "Your formula is costly to run: this map has {rates} learning rates × {values} values, "
                        "every other cell of the full map.",
        "waiting_turn": "Waiting for another visitor's run to finish (one heavy run at a time)…",
    },
    "ko": {
        "title": "optviz: 손실 표면 위를 달리는 케라스 최적화 알고리즘",
        "subtitle": "모든 경로는 `keras.optimizers`가 실제로 밟는 경로와 한 스텝 한 스텝 같습니다. 차트의 ▶ 재생을 누르세요.",
        "language": "언어",
        "preset": "설정 모음",
        "surface": "손실 표면",
        "kappa": "조건수 κ",
        "optimizers": "최적화 알고리즘",
        "frameworks": "다른 프레임워크의 최적화 알고리즘",
        "frameworks_help": "파이토치(torch.optim)와 optax 고유의 규칙, 이름, 기본값으로 케라스 옆에서 달립니다: "
                           "파이토치는 점선(dash), optax는 점(dot)선.",
        "framework_settings_of": "{name}: 그 프레임워크의 설정",
        "framework_note": "{framework} 고유의 이름과 기본값입니다. 학습률 일정은 케라스에만 있습니다: "
                          "{framework}은(는) 고정 학습률로 달립니다(여기서 정하지 않으면 같은 이름의 케라스 최적화 알고리즘의 학습률).",
        "framework_code_caption": "이 설정의 {framework} 코드:",
        "framework_difference": "케라스와 다른 점: {note}",
        "framework_difference_default": "케라스와 이름은 같지만 그 프레임워크의 규칙과 기본값입니다(수식을 비교해 보세요).",
        "learning_rate": "학습률",
        "momentum": "모멘텀",
        "follows": "적용 대상: {names}",
        "follows_none": "선택한 알고리즘 중 이 슬라이더를 쓰는 것이 없습니다: 각자 아래에서 따로 값을 정했습니다.",
        "steps": "스텝 수",
        "batch_size": "배치 크기",
        "full_batch": "{n} (전체 배치)",
        "epochs": "에포크",
        "fit_steps": "에포크마다 배치 {batches}개: 모두 {steps} 스텝, model.fit처럼 배치 하나에 한 스텝.",
        "data_about": "점 {n}개. {source}",
        "synthetic": "시드를 고정한 합성 데이터 (어느 컴퓨터에서나 같은 데이터).",
        "standardize": "입력 표준화",
        "standardize_help": "입력 열마다 평균을 빼고 표준편차 1로 나눕니다: 그릇이 둥글어집니다.",
        "shuffle": "에포크마다 섞기",
        "shuffle_help": "아래 시드로 정한 optviz의 순서 (케라스 코드도 같은 배치를 넘깁니다).",
        "fit_title": "데이터와 {step} 스텝의 각 알고리즘 모델",
        "fit_program": "{name}의 케라스 프로그램 전체: 데이터, 모델, set_weights, compile, fit",
        "data_points": "데이터",
        "predicted": "예측값",
        "tune_data_note": "데이터 표면에서는 칸마다 같은 스텝 수만큼 전체 배치로 경사 하강을 합니다.",
        "start": "시작점",
        "start_x": "시작점 x 좌표",
        "start_y": "시작점 y 좌표",
        "reset_start": "표면의 기본 시작점으로",
        "noise": "그래디언트 잡음 (표준편차)",
        "seed": "잡음 시드",
        "settings_of": "{name}: 모든 설정",
        "own_learning_rate": "따로 정한 학습률",
        "own_momentum": "따로 정한 모멘텀",
        "reset_optimizer": "케라스 기본값으로",
        "tabs": "보기",
        "tab_race": "경주",
        "tab_3d": "입체",
        "tab_rules": "업데이트 규칙과 케라스 코드",
        "loss_title": "스텝별 손실",
        "results": "결과",
        "col_optimizer": "최적화 알고리즘",
        "col_final_loss": "최종 손실",
        "col_distance": "최솟값까지",
        "col_steps": "≤ {tol:g} 도달 스텝",
        "col_diverged": "발산 스텝",
        "never": "못 함",
        "unknown": "최솟값 모름",
        "none": "—",
        "no_optimizer": "사이드바에서 최적화 알고리즘을 하나 이상 고르세요.",
        "bad_url": "링크의 `{key}={value}` 값이 올바르지 않아 ({reason}) 기본값 {default}을(를) 씁니다.",
        "unknown_url": "링크의 `{key}` 항목은 알 수 없어 무시했습니다.",
        "bad_input": "설정이 올바르지 않습니다: {reason}",
        "code_caption": "이 설정의 케라스 코드:",
        "share": "공유: 주소창에 모든 설정이 담겨 있으니, 복사하면 이 화면 그대로 열립니다.",
        "play": "▶ 재생", "pause": "❚❚ 멈춤", "step": "스텝 ", "start_marker": "시작", "minimum": "최솟값",
        "diverged_at": "{name}: {step} 스텝에서 발산", "loss": "손실", "loss_gap": "손실 − 최솟값",
        "diverged_warning": "{names}: 발산했습니다 (차트의 ✖: 경로가 무한대로 가거나 손실 값이 수가 아닌 곳에 닿음). "
                            "학습률을 줄여 보세요.",
        "lesson": "수업 장면",
        "free_play": "— 자유 탐색 —",
        "previous": "◀ 이전",
        "next": "다음 ▶",
        "presenter": "발표 모드",
        "look_for": "눈여겨볼 점",
        "question": "학생들에게 던질 질문",
        "step_back": "◀",
        "step_forward": "▶",
        "step_ten": "+10",
        "step_first": "⇤",
        "step_last": "⇥",
        "step_help": {"first": "0 스텝으로", "back": "한 스텝 뒤로", "step": "한 스텝 앞으로 (모든 알고리즘 함께)",
                      "ten": "열 스텝 앞으로", "last": "경주 전체 보기"},
        "step_now": "스텝 {step} / {steps}",
        "inspector": "스텝 {step} 살펴보기",
        "inspector_help": "이 스텝의 화살표: 각 알고리즘의 실제 이동(자기 색, 실제 크기), 내리막 방향 −∇f(검정), 속도/1차 "
                          "모멘트(옅은 색; 둘 다 같은 길이로 맞춤). 유효 스텝 크기 = 좌표별 |Δw| / |g|: SGD는 학습률과 "
                          "같고, 아다그라드는 누적값이 커지며 줄어듭니다.",
        "click_start": "차트 아무 곳이나 누르면 그곳에서 출발합니다.",
        "zoom_help": "확대하려면 차트 도구 모음에서 Box Select를 고르고 사각형을 끌어 그리세요. 설정을 바꿔도 "
                     "그 보기가 유지되고 링크에도 담깁니다.",
        "zoomed": "확대한 보기: 이 범위에 맞춰 곡면을 다시 그렸고, 설정을 바꿔도 유지됩니다.",
        "reset_view": "전체 곡면",
        "chart_marks": "★ 최솟값, ○ 시작점.",
        "started_at": "시작점을 ({x:.3g}, {y:.3g})로 정했습니다.",
        "bad_start": "({x:.3g}, {y:.3g})에서는 손실 값이 유한한 수가 아니어서 경로를 시작할 수 없습니다. "
                     "대신 이 곡면의 기본 시작점 ({x0:.3g}, {y0:.3g})에서 시작합니다.",
        "formula": "수식 f(x, y)",
        "box": "보기 범위: x와 y 모두 −b부터 b까지",
        "bad_formula": "이 수식은 쓸 수 없습니다: {reason}",
        "export": "발표 자료와 보고서용 내보내기",
        "export_html": "대화형 HTML (오프라인에서도 동작)",
        "export_csv": "경로 CSV",
        "export_gif": "움직이는 GIF 만들기",
        "download_gif": "GIF 내려받기",
        "schedule": "학습률 스케줄",
        "schedule_none": "없음 (일정한 학습률)",
        "schedule_help": "모든 알고리즘에 적용되며, 각자 자기 학습률에서 시작합니다. 차트는 공통 학습률을 스텝별로 보여 줍니다.",
        "factors": "values (학습률에 곱할 배수, boundaries보다 하나 많게), 예: 1, 0.5, 0.1",
        "boundaries": "boundaries (스텝), 예: 100, 300",
        "tab_tune": "튜닝",
        "tune_optimizer": "튜닝할 최적화 알고리즘",
        "tune_help": "칸 하나가 시작점에서 {steps} 스텝을 끝까지 달린 결과입니다: 색은 최종 손실 차이(어두울수록 좋음), "
                     "✖는 발산. 칸을 누르면 그 학습률과 {axis} 값이 경주에 들어갑니다.",
        "tune_loaded": "{name}에 learning_rate={lr:.3g}, {axis}={value:.3g}를 넣었습니다.",
        "lr_curve": "학습률별 최종 손실 (각 알고리즘의 다른 설정은 지금 그대로)",
        "tune_error": "이 지도를 그릴 수 없습니다: {reason}",
        "lr_limit": "이론, 이 이차 함수에서 (λmax = {lam:.4g}): {parts}.",
        "lr_limit_part": "{name}은(는) 모멘텀 {mu:.2f}에서 학습률 {lr:.3g} 위로 발산",
        "use_best": "이론상 최적 설정 쓰기: 학습률 {lr:.3g}, 모멘텀 {mu:.2f}",
        "use_best_help": "이 이차 함수에서 스펙트럼 반지름이 가장 작은 설정입니다 (λmin = {low:.4g}, "
                         "λmax = {high:.4g}, κ = {kappa:.4g}): 예측 수렴률 ρ = {rate:.4f}. 슬라이더의 가장 가까운 "
                         "눈금으로 들어갑니다.",
        "tune_theory": "이 이차 함수의 이론: 점선은 발산이 시작되는 곳 (모멘텀은 η·λmax = 2(1 + μ), 네스테로프는 "
                       "2(1 + μ)/(1 + 2μ)), 별은 모멘텀 0에서와 전체에서의 최적 설정입니다. 유도 과정은 "
                       "*업데이트 규칙과 케라스 코드*에 있습니다.",
        "side_chart": "경주 옆 차트",
        "chart_loss": "손실",
        "chart_sharpness": "날카로움",
        "sharpness_title": "스텝별 날카로움 (각 점에서 헤시안의 최대 고유값)",
        "sharpness_help": "점선: SGD / 네스테로프 실행마다의 안정 한계 (모멘텀 0에서 2/η, 모멘텀이 있으면 2(1 + μ)/η, "
                          "네스테로프는 2(1 + μ)/((1 + 2μ)η)). 날카로움이 자기 선까지 올라가 그 근처에 머무는 경로는 "
                          "안정성의 경계(edge of stability)에 있습니다.",
        "rate_help": "이차 함수에서의 점선: 선형 이론이 SGD와 네스테로프에 예측하는 손실 (손실 차이 ∝ ρ^(2k), ρ는 "
                     "반복 행렬의 스펙트럼 반지름).",
        "derivation_title": "SGD와 네스테로프가 그 지점에서 발산하는 이유: 유도 과정",
        "derivation": """이차 함수 $f(w) = \\tfrac12 (w - w^*)^\\top H (w - w^*) + f^*$의 그래디언트는 $H(w - w^*)$이므로, $H$의 고유벡터(고유값 $\\lambda$) 방향마다 그래디언트에 선형인 규칙은 2×2 반복이 됩니다. $s = \\eta\\lambda$, $w$는 그 방향으로 최솟값까지의 거리라고 둡니다.

**모멘텀 SGD** (케라스의 스텝: $m \\leftarrow \\mu m - \\eta g$, $w \\leftarrow w + m$):

$$\\begin{pmatrix} w \\\\ m \\end{pmatrix} \\leftarrow \\begin{pmatrix} 1 - s & \\mu \\\\ -s & \\mu \\end{pmatrix} \\begin{pmatrix} w \\\\ m \\end{pmatrix}, \\qquad z^2 - (1 + \\mu - s)\\,z + \\mu = 0.$$

**네스테로프** (케라스의 스텝: $m \\leftarrow \\mu m - \\eta g$, 그다음 새 $m$으로 $w \\leftarrow w + \\mu m - \\eta g$): $w \\leftarrow w + \\mu(\\mu m - s w) - s w$이므로

$$\\begin{pmatrix} w \\\\ m \\end{pmatrix} \\leftarrow \\begin{pmatrix} 1 - s(1 + \\mu) & \\mu^2 \\\\ -s & \\mu \\end{pmatrix} \\begin{pmatrix} w \\\\ m \\end{pmatrix}, \\qquad z^2 - (1 + \\mu)(1 - s)\\,z + \\mu(1 - s) = 0.$$

두 근이 모두 단위원 안에 있을 조건은 (Jury 판정법, $T$는 대각합, $D$는 행렬식) $1 - T + D > 0$, $1 + T + D > 0$, $|D| < 1$입니다. 모멘텀은 $1 - T + D = s$, $1 + T + D = 2(1 + \\mu) - s$이므로 $0 < \\eta\\lambda < 2(1 + \\mu)$일 때만 안정합니다. 네스테로프는 $1 - T + D = s$, $1 + T + D = 2(1 + \\mu) - s(1 + 2\\mu)$이므로 $0 < \\eta\\lambda < \\dfrac{2(1 + \\mu)}{1 + 2\\mu}$일 때만 안정합니다. 가장 큰 고유값 $\\lambda_{\\max}$가 결정합니다: 발산은 $\\eta = 2(1 + \\mu)/\\lambda_{\\max}$ (모멘텀), $2(1 + \\mu)/((1 + 2\\mu)\\lambda_{\\max})$ (네스테로프)에서 시작하고, $\\mu = 0$이면 둘 다 경사 하강법의 $2/\\lambda_{\\max}$입니다.

모든 고유값에 걸친 가장 큰 $|z|$, 곧 $\\rho$가 선형 수렴률입니다: 손실 차이는 $\\rho^{2k}$처럼 줄어듭니다. 가장 작은 $\\rho$는 경사 하강법에서 $\\eta = 2/(\\lambda_{\\max} + \\lambda_{\\min})$, $\\rho = (\\kappa - 1)/(\\kappa + 1)$; 모멘텀에서 $\\eta = 4/(\\sqrt{\\lambda_{\\max}} + \\sqrt{\\lambda_{\\min}})^2$, $\\mu = \\left(\\frac{\\sqrt\\kappa - 1}{\\sqrt\\kappa + 1}\\right)^2$, $\\rho = \\frac{\\sqrt\\kappa - 1}{\\sqrt\\kappa + 1}$; 네스테로프에서 $\\eta = 4/(3\\lambda_{\\max} + \\lambda_{\\min})$, $\\mu = \\frac{\\sqrt{3\\kappa + 1} - 2}{\\sqrt{3\\kappa + 1} + 2}$, $\\rho = 1 - 2/\\sqrt{3\\kappa + 1}$입니다 ($\\kappa = \\lambda_{\\max}/\\lambda_{\\min}$).""",
        "fig_boundary": "여기서 발산 시작 (이론)",
        "fig_best": "최적 (이론): learning_rate {lr:.3g}, {axis} {mu:.2f}",
        "fig_best_gd": "{axis} 0에서 최적 (이론): learning_rate {lr:.3g}",
        "fig_rate": "예측 수렴률 ρ = {rate:.4f}",
        "fig_sharpness": "날카로움 (헤시안 최대 고유값)",
        "fig_limit": "{name}: {value:.4g} 아래에서 안정",
        "curve_error": "학습률 곡선을 그릴 수 없습니다: {reason}",
        "tune_thinned": "입력한 수식은 계산 비용이 커서, 이 지도는 전체 지도의 한 칸 건너 한 칸씩 "
                        "학습률 {rates}개 × 값 {values}개로 그렸습니다.",
        "waiting_turn": "다른 방문자의 계산이 끝나기를 기다리는 중입니다 (무거운 계산은 한 번에 하나씩)…",
    },
}


def text(lang: str) -> dict[str, str]:
    """The page's strings in ``lang`` (English for an unknown language)."""
    return TEXT.get(lang, TEXT["en"])


def figure_text(lang: str) -> dict[str, str]:
    """The strings the figure builders draw inside charts."""
    t = text(lang)
    return {"play": t["play"], "pause": t["pause"], "step": t["step"], "start": t["start_marker"],
            "minimum": t["minimum"], "diverged_at": t["diverged_at"], "loss": t["loss"], "loss_gap": t["loss_gap"],
            "steps_to_tol": t["col_steps"].format(tol=1e-3), "diverged": t["col_diverged"],
            "set_start": t["click_start"], "data_points": t["data_points"], "predicted": t["predicted"],
            **{key: t[f"fig_{key}"] for key in FIGURE_THEORY_KEYS}}


FIGURE_THEORY_KEYS = ("boundary", "best", "best_gd", "rate", "sharpness", "limit")
