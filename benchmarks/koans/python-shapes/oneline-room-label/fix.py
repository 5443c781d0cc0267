floor, number = 3, 4; label = "Room " + str(floor) + str(number).zfill(2); assert label == "Room 304", label
