#include "data/idx.hpp"
